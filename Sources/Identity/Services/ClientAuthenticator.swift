import Foundation
import ServerSupport

/// Finds the calling app in the tenant and checks its client secret.
struct ClientAuthenticator {
    let directory: TenantDirectory
    let now: Date

    /// The app with this client ID in the tenant, or AADSTS700016.
    func app(clientId: String, tenantIdentifier: String) throws -> TenantDirectory.App {
        guard let app = directory.app(clientId: clientId) else {
            throw IdentityError.applicationNotFound(clientId, tenant: tenantIdentifier)
        }
        return app
    }

    /// Checks `secret` against the app's secrets (AADSTS7000218 / 7000215 / 7000222).
    /// An app without any secret is a public client and needs none, except for client credentials.
    func authenticate(_ app: TenantDirectory.App, secret: String?, confidentialOnly: Bool) throws {
        guard let secret, !secret.isEmpty else {
            if confidentialOnly || !app.secrets.isEmpty { throw IdentityError.missingClientCredential }
            return
        }
        let digest = RandomToken.digest(secret)
        guard let match = app.secrets.first(where: { constantTimeEquals($0.digest, digest) }) else {
            throw IdentityError.invalidClientSecret(appId: app.appId)
        }
        guard match.expiresAt > now else { throw IdentityError.expiredClientSecret(appId: app.appId) }
    }

    private func constantTimeEquals(_ lhs: String, _ rhs: String) -> Bool {
        let a = Array(lhs.utf8)
        let b = Array(rhs.utf8)
        guard a.count == b.count else { return false }
        return zip(a, b).reduce(UInt8(0)) { $0 | ($1.0 ^ $1.1) } == 0
    }
}

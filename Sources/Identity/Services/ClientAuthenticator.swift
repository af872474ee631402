import Fluent
import Foundation
import ServerSupport

/// Finds the calling app in the tenant and checks its client secret.
struct ClientAuthenticator {
    let database: any Database
    let now: Date

    /// The app with this client ID in the tenant, or AADSTS700016.
    func app(clientId: String, in tenant: Tenant, tenantIdentifier: String) async throws -> AppRegistration {
        guard UUID(uuidString: clientId) != nil,
            let app = try await AppRegistration.query(on: database)
                .filter(\.$tenant.$id == tenant.requireID())
                .filter(\.$appId == clientId.lowercased())
                .first()
        else { throw IdentityError.applicationNotFound(clientId, tenant: tenantIdentifier) }
        return app
    }

    /// Checks `secret` against the app's secrets (AADSTS7000218 / 7000215 / 7000222).
    /// An app without any secret is a public client and needs none, except for client credentials.
    func authenticate(_ app: AppRegistration, secret: String?, confidentialOnly: Bool) async throws {
        let secrets = try await app.$secrets.query(on: database).all()
        guard let secret, !secret.isEmpty else {
            if confidentialOnly || !secrets.isEmpty { throw IdentityError.missingClientCredential }
            return
        }
        let digest = RandomToken.digest(secret)
        guard let match = secrets.first(where: { constantTimeEquals($0.secretDigest, digest) }) else {
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

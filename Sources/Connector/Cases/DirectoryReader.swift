import AsyncHTTPClient
import Foundation
import ServerSupport
import Synchronization
import Vapor
import WireModels

/// Whether an e-mail belongs to a Microsoft 365 administrator of a tenant: the user's directory roles read through
/// Graph's `GET /v1.0/users/{upn}/memberOf` with an app-only token — the Connector's own app credentials in that
/// tenant, else the tenant profile's Graph credentials. Verdicts and tokens are kept briefly.
final class DirectoryReader: Sendable {
    struct Verdict: Sendable, Equatable {
        let isAdministrator: Bool
        let roles: [String]
    }

    private struct Cached<Value: Sendable>: Sendable {
        let value: Value
        let until: Date
    }

    private let verdicts = Mutex<[String: Cached<Verdict>]>([:])
    private let tokens = Mutex<[String: Cached<String>]>([:])
    /// Verdicts kept at most; the oldest go first.
    static let maxVerdicts = 10_000

    /// A role whose name says it administers (Global Administrator, Service Support Administrator, …); readers
    /// and ordinary members may not open cases.
    static func isAdministratorRole(_ displayName: String) -> Bool {
        displayName.hasSuffix("Administrator")
    }

    func verdict(email: String, tenant: String, request: Request) async throws -> Verdict {
        let config = request.application.connector.config
        let key = tenant + "|" + email.lowercased()
        let now = config.now()
        if let cached = verdicts.withLock({ $0[key] }), cached.until > now { return cached.value }
        let token = try await token(tenant: tenant, request: request)
        let encoded = email.addingPercentEncoding(withAllowedCharacters: .alphanumerics.union(["@", ".", "-", "_"]))
        var outbound = HTTPClientRequest(url: "\(config.directoryURL)/v1.0/users/\(encoded ?? email)/memberOf")
        outbound.headers.add(name: "Authorization", value: "Bearer \(token)")
        outbound.headers.add(name: "Accept", value: "application/json")
        let exchange: OutboundExchange
        do {
            exchange = try await request.application.connector.http.send(
                outbound, body: nil, source: "directory", correlationId: request.id, secrets: [token],
                log: ProcessOutboundLog(), logger: request.logger)
        } catch let failure as OutboundFailure {
            throw ConnectorError(
                .serviceUnavailable, .directoryUnavailable, "Tenant \(tenant)'s directory could not be read: \(failure)"
            )
        }
        let verdict: Verdict
        switch exchange.status {
        case .ok:
            let object =
                try? JSONSerialization.jsonObject(with: Data(exchange.body.readableBytesView)) as? [String: Any]
            let names = ((object?["value"] as? [[String: Any]]) ?? []).compactMap { $0["displayName"] as? String }
            let roles = names.filter(Self.isAdministratorRole).sorted()
            verdict = Verdict(isAdministrator: !roles.isEmpty, roles: roles)
        case .notFound:
            verdict = Verdict(isAdministrator: false, roles: [])
        case .unauthorized:
            tokens.withLock { _ = $0.removeValue(forKey: tenant) }
            fallthrough
        default:
            throw ConnectorError(
                .serviceUnavailable, .directoryUnavailable,
                "Tenant \(tenant)'s directory answered \(exchange.status.code) to the administrator check "
                    + "(outbound log \(exchange.logId)).")
        }
        verdicts.withLock { verdicts in
            if verdicts.count >= Self.maxVerdicts {
                verdicts = verdicts.filter { $0.value.until > now }
                if verdicts.count >= Self.maxVerdicts { verdicts.removeAll() }
            }
            verdicts[key] = Cached(value: verdict, until: now.addingTimeInterval(config.administratorVerdictLifetime))
        }
        return verdict
    }

    private func token(tenant: String, request: Request) async throws -> String {
        let config = request.application.connector.config
        let now = config.now()
        if let cached = tokens.withLock({ $0[tenant] }), cached.until > now { return cached.value }
        let sql = try request.db.asSQL()
        var credentials: (clientId: String, secret: String)?
        if let own = try await TenantStore(sql: sql, now: config.now).directoryCredentials(tenant) {
            credentials = (own.clientId, try config.masterKey.open(own.sealedSecret))
        } else if let profile = try await ProfileStore(sql: sql, masterKey: config.masterKey, now: config.now)
            .graphCredentials().first(where: { $0.tenant == tenant })
        {
            credentials = (profile.clientId, profile.secret)
        }
        guard let credentials else {
            throw ConnectorError(
                .serviceUnavailable, .directoryUnavailable,
                "The Connector has no credentials to read tenant \(tenant)'s directory, so it cannot check that a "
                    + "case's contact is an administrator. The operator registers the Connector's directory app in "
                    + "the tenant (`m365-support connector resource`), or the tenant's profile gives Graph credentials "
                    + "with Directory.Read.All.")
        }
        do {
            let answer = try await AppOnlyToken(http: request.application.connector.http, logger: request.logger)
                .fetch(
                    url: config.directoryTokenURL.replacingOccurrences(of: "{tenant}", with: tenant),
                    clientId: credentials.clientId, secret: credentials.secret, scope: config.graphScope,
                    correlationId: request.id)
            tokens.withLock {
                $0[tenant] = Cached(value: answer.token, until: now.addingTimeInterval(max(0, answer.expiresIn - 120)))
            }
            return answer.token
        } catch let refusal as AppOnlyToken.Refusal {
            throw ConnectorError(
                .serviceUnavailable, .directoryUnavailable,
                "Tenant \(tenant)'s directory could not be read: \(refusal.description)")
        }
    }
}

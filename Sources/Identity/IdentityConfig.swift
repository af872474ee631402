import Foundation
import ServerSupport

/// Everything Identity needs to run, built once at start and passed to ``configure(_:config:)``.
package struct IdentityConfig: Sendable {
    /// `M365_IDENTITY_HOST` (else `M365_HOST`, default 127.0.0.1), `M365_IDENTITY_PORT` (8443), `M365_IDENTITY_PUBLIC_URL`
    /// (default `https://127.0.0.1:{port}`): the base of issuers and discovery URLs.
    package var endpoint: ServiceEndpoint
    /// `M365_IDENTITY_DATABASE_URL`: `postgres://…` or an SQLite path; default `{data}/identity.sqlite`.
    package var database: DatabaseLocation
    /// `M365_MASTER_KEY` or `{data}/master.key`: seals the signing keys at rest.
    package var masterKey: MasterKey
    /// Certificate served (none: plain HTTP behind a TLS-terminating load balancer) and CAs trusted.
    package var tls: TLSSettings?
    /// `M365_IDENTITY_ADMIN_TOKEN`: bearer token for `/admin/api`; the admin API is off without one.
    package var adminToken: String?
    /// `M365_IDENTITY_TOKEN_LIFETIME` seconds, default 3599 (what Entra reports as `expires_in`).
    package var accessTokenLifetime: TimeInterval
    /// Authorization codes live 10 minutes, as in Entra.
    package var authorizationCodeLifetime: TimeInterval
    /// Refresh tokens live 90 days, as in Entra.
    package var refreshTokenLifetime: TimeInterval
    /// How often each instance re-reads the signing keys, so a rotation elsewhere takes effect.
    package var keyRefreshInterval: TimeInterval
    /// How long token endpoints reuse a tenant's apps, secrets and grants before re-reading them;
    /// changes made in another process show after at most this long.
    package var directoryCacheLifetime: TimeInterval
    /// bcrypt cost for user passwords.
    package var passwordCost: Int
    /// `M365_IDENTITY_TRUST_X_FORWARDED_FOR` (false): behind a load balancer, the sign-in throttle counts the
    /// client address from `X-Forwarded-For`.
    package var trustsForwardedFor: Bool
    package var now: @Sendable () -> Date

    package init(
        endpoint: ServiceEndpoint, database: DatabaseLocation, masterKey: MasterKey, tls: TLSSettings?,
        adminToken: String? = nil, accessTokenLifetime: TimeInterval = 3599,
        authorizationCodeLifetime: TimeInterval = 600, refreshTokenLifetime: TimeInterval = 90 * 86400,
        keyRefreshInterval: TimeInterval = 30, directoryCacheLifetime: TimeInterval = 5, passwordCost: Int = 10,
        trustsForwardedFor: Bool = false, now: @escaping @Sendable () -> Date = { Date() }
    ) {
        self.endpoint = endpoint
        self.database = database
        self.masterKey = masterKey
        self.tls = tls
        self.adminToken = adminToken
        self.accessTokenLifetime = accessTokenLifetime
        self.authorizationCodeLifetime = authorizationCodeLifetime
        self.refreshTokenLifetime = refreshTokenLifetime
        self.keyRefreshInterval = keyRefreshInterval
        self.directoryCacheLifetime = directoryCacheLifetime
        self.passwordCost = passwordCost
        self.trustsForwardedFor = trustsForwardedFor
        self.now = now
    }

    /// Reads the `M365_IDENTITY_*` variables; `port`, `host` and `database` given here (flags) win.
    package static func load(
        environment: EnvironmentReader, dataDirectory: URL, masterKey: MasterKey, tls: TLSSettings?,
        host: String? = nil, port: Int? = nil, database: String? = nil
    ) throws -> IdentityConfig {
        let endpoint = ServiceEndpoint(
            host: host ?? environment.string("M365_IDENTITY_HOST") ?? environment.string("M365_HOST") ?? "127.0.0.1",
            port: try port ?? environment.int("M365_IDENTITY_PORT") ?? 8443,
            usesTLS: tls?.servesTLS ?? false,
            publicURL: environment.string("M365_IDENTITY_PUBLIC_URL"))
        let location =
            try (database ?? environment.string("M365_IDENTITY_DATABASE_URL"))
            .map(DatabaseLocation.parse) ?? .sqliteFile(dataDirectory.appendingPathComponent("identity.sqlite"))
        let lifetime = try environment.int("M365_IDENTITY_TOKEN_LIFETIME") ?? 3599
        // Entra's configurable range for access token lifetimes: 10 minutes to 1 day.
        guard (600...86_400).contains(lifetime) else {
            throw ConfigurationError.invalid(
                name: "M365_IDENTITY_TOKEN_LIFETIME", value: String(lifetime),
                expected: "seconds from 600 to 86400")
        }
        return IdentityConfig(
            endpoint: endpoint, database: location, masterKey: masterKey, tls: tls,
            adminToken: environment.string("M365_IDENTITY_ADMIN_TOKEN"),
            accessTokenLifetime: TimeInterval(lifetime),
            trustsForwardedFor: try environment.bool("M365_IDENTITY_TRUST_X_FORWARDED_FOR") ?? false)
    }
}

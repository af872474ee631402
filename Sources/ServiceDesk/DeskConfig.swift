import Foundation
import ServerSupport

/// Everything the desk needs to run, built once at start and passed to ``configure(_:config:)``.
package struct DeskConfig: Sendable {
    /// `M365_DESK_HOST` (else `M365_HOST`, default 127.0.0.1), `M365_DESK_PORT` (8445), `M365_DESK_PUBLIC_URL`
    /// (default `https://127.0.0.1:{port}`): the base of links in Table API answers.
    package var endpoint: ServiceEndpoint
    /// `M365_DESK_DATABASE_URL`: `postgres://…` or an SQLite path; default `{data}/desk.sqlite`.
    package var database: DatabaseLocation
    /// Certificate served, if any, and CAs the desk's own HTTP clients trust.
    package var tls: TLSSettings?
    /// `M365_MASTER_KEY` or `{data}/master.key`: seals stored client secrets.
    package var masterKey: MasterKey
    /// bcrypt cost for user passwords.
    package var passwordCost: Int
    /// `M365_DESK_LOG_RETENTION_DAYS` (30): how long the system log and the outbound HTTP log keep entries;
    /// 0 keeps them forever.
    package var logRetentionDays: Int
    /// `M365_DESK_TRUST_X_FORWARDED_FOR` (false): behind a load balancer, the client address for sign-in
    /// throttling is the last `X-Forwarded-For` entry (the one the balancer added), not the balancer's own.
    package var trustsForwardedFor: Bool
    /// `M365_DESK_MAX_PAGE_SIZE` (10000, ServiceNow's): the most records one Table API page returns, and the
    /// page size when the caller names none.
    package var maxPageSize: Int
    package var now: @Sendable () -> Date

    package init(
        endpoint: ServiceEndpoint, database: DatabaseLocation, tls: TLSSettings?, masterKey: MasterKey,
        passwordCost: Int = 10, logRetentionDays: Int = 30, trustsForwardedFor: Bool = false,
        maxPageSize: Int = 10000, now: @escaping @Sendable () -> Date = { Date() }
    ) {
        self.endpoint = endpoint
        self.database = database
        self.tls = tls
        self.masterKey = masterKey
        self.passwordCost = passwordCost
        self.logRetentionDays = logRetentionDays
        self.trustsForwardedFor = trustsForwardedFor
        self.maxPageSize = maxPageSize
        self.now = now
    }

    /// Reads the `M365_DESK_*` variables; `host`, `port` and `database` given here (flags) win. The desk serves
    /// HTTPS with the services' certificate, as ServiceNow instances do (ServiceNow's own client refuses plain
    /// HTTP); `M365_DESK_TLS=false` (or `M365_TLS_DISABLED`) serves plain HTTP behind a TLS-terminating balancer.
    package static func load(
        environment: EnvironmentReader, dataDirectory: URL, tls: TLSSettings, masterKey: MasterKey,
        host: String? = nil, port: Int? = nil, database: String? = nil
    ) throws -> DeskConfig {
        let servesTLS = try environment.bool("M365_DESK_TLS") ?? true
        let settings = servesTLS ? tls : TLSSettings(server: nil, trustedCAFiles: tls.trustedCAFiles)
        let endpoint = ServiceEndpoint(
            host: host ?? environment.string("M365_DESK_HOST") ?? environment.string("M365_HOST") ?? "127.0.0.1",
            port: try port ?? environment.int("M365_DESK_PORT") ?? 8445,
            usesTLS: settings.servesTLS,
            publicURL: environment.string("M365_DESK_PUBLIC_URL"))
        let location =
            try (database ?? environment.string("M365_DESK_DATABASE_URL")).map(DatabaseLocation.parse)
            ?? .sqliteFile(dataDirectory.appendingPathComponent("desk.sqlite"))
        let retention = try environment.int("M365_DESK_LOG_RETENTION_DAYS") ?? 30
        guard (0...36_500).contains(retention) else {
            throw ConfigurationError.invalid(
                name: "M365_DESK_LOG_RETENTION_DAYS", value: String(retention),
                expected: "a number of days from 0 to 36500")
        }
        let maxPageSize = try environment.int("M365_DESK_MAX_PAGE_SIZE") ?? 10000
        guard (1...1_000_000).contains(maxPageSize) else {
            throw ConfigurationError.invalid(
                name: "M365_DESK_MAX_PAGE_SIZE", value: String(maxPageSize), expected: "a number from 1 to 1000000")
        }
        return DeskConfig(
            endpoint: endpoint, database: location, tls: settings, masterKey: masterKey, logRetentionDays: retention,
            trustsForwardedFor: try environment.bool("M365_DESK_TRUST_X_FORWARDED_FOR") ?? false,
            maxPageSize: maxPageSize)
    }
}

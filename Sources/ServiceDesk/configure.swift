import Fluent
import Foundation
import SQLKit
import ServerSupport
import Vapor
import WireModels

/// Sets up the service desk on `app`: database and migrations, ServiceNow's error envelope and routes.
package func configure(_ app: Application, config: DeskConfig) async throws {
    try config.database.register(on: app)
    app.migrations.add(DeskMigrations.all)

    app.middleware = Middlewares()
    app.middleware.use(app.inFlightRequests)
    app.middleware.use(RouteLoggingMiddleware(logLevel: .debug))
    app.middleware.use(ServiceNowErrorMiddleware())

    if let tls = config.tls {
        try app.useTLS(tls)
    }
    app.bind(to: config.endpoint)
    app.useGuardedServer { status, reason in
        let body = ServiceNowErrorBody(message: status.reasonPhrase, detail: reason)
        let json = (try? JSONEncoder().encode(body)).map { String(decoding: $0, as: UTF8.self) } ?? "{}"
        return ("application/json; charset=utf-8", json)
    }
    app.passwords.use(.bcrypt(cost: config.passwordCost))
    let http = try LoggedHTTPClient(tls: config.tls)
    app.lifecycle.use(OutboundHTTPShutdown(http: http))
    let jobs = JobRunner(tables: DeskContext.jobTables, now: config.now)
    app.lifecycle.use(jobs)
    if config.logRetentionDays > 0 {
        jobs.every(3600, name: LogRetention.jobName) { [days = config.logRetentionDays] app in
            await LogRetention.sweep(app, days: days)
        }
    }
    app.desk = DeskContext(
        config: config, authenticator: DeskAuthenticator(now: config.now), http: http,
        oidcCache: JWKSCache(now: config.now), jobs: jobs)

    app.useLeafViews(in: Bundle.module)
    _ = app.incidentFormTabs

    app.get(DeskPath.health.pathComponents) { _ in "ok" }
    // Scripts are served from the desk itself, so pages can forbid inline scripts (CSP `script-src 'self'`).
    let script =
        try Bundle.module.url(forResource: "desk", withExtension: "js", subdirectory: "Scripts")
        .map { try Data(contentsOf: $0) } ?? Data()
    app.get(DeskPath.script.pathComponents) { _ in
        Response(
            status: .ok,
            headers: ["Content-Type": "application/javascript; charset=utf-8", "Cache-Control": "max-age=3600"],
            body: .init(data: script))
    }
    // Body limits are checked inside each kind of route's error handling, so a 413 has that interface's shape.
    let api = app.grouped(BodyLimitMiddleware())
    try api.register(collection: TableAPIController())
    try api.register(collection: OAuthTokenController())
    let pages = app.grouped(WebPageMiddleware(), BodyLimitMiddleware())
    try pages.register(collection: SignInController())
    try pages.register(collection: IncidentPages())
    try pages.register(collection: UserAdminPages())
    try pages.register(collection: RegistryPages())
    try pages.register(collection: LogPages())
}

/// The desk's schema history. Append only: a shipped migration is never edited.
enum DeskMigrations {
    static let all: [any Migration] = [
        CreateDeskTables(),
        CreateOAuthTables(),
        CreateJournal(),
        CreateWebTables(),
        CreatePlatformTables(),
        AddIncidentFields(),
        CreateRefusalTally(),
        AddOIDCAcceptedTenants(),
        CreateJobTables(),
        AddSessionExternalAccount(),
        AddDeskIndexes(),
        AddIncidentTrigramIndex(),
        AddTableVersions(),
    ]
}

/// The desk's app-wide services, stored once in `app.storage`.
struct DeskContext: Sendable {
    let config: DeskConfig
    let authenticator: DeskAuthenticator
    /// The client of every outbound call, each logged in `sys_outbound_http_log`.
    let http: any OutboundHTTPClient
    let oidcCache: JWKSCache
    /// Periodic and queued background work, shared safely by every instance on the database.
    let jobs: JobRunner
    /// Lists' counts, remembered until their table changes.
    let tableCounts = TableCounts()

    static let jobTables = JobTables(prefix: "desk")
}

extension Application {
    private struct DeskContextKey: StorageKey {
        typealias Value = DeskContext
    }

    var desk: DeskContext {
        get {
            guard let context = storage[DeskContextKey.self] else {
                fatalError("The desk is not configured: call configure(_:config:) first")
            }
            return context
        }
        set { storage[DeskContextKey.self] = newValue }
    }

    /// Runs the desk's migrations and installs its built-in roles.
    package func prepareDesk() async throws {
        try await prepareDatabase()
        try await DeskDirectory(app: self).installRoles()
    }
}

extension Request {
    var desk: DeskContext { application.desk }

    /// The caller's `client-request-id` or `X-Correlation-ID` when it is a plain token, else this request's ID:
    /// it ties the system log, the outbound HTTP log and the process log together.
    var correlationId: String {
        for name in ["client-request-id", "X-Correlation-ID"] {
            if let value = headers.first(name: name), (1...64).contains(value.utf8.count),
                value.utf8.allSatisfy({
                    $0 == UInt8(ascii: "-") || (48...57).contains($0) || (65...90).contains($0)
                        || (97...122).contains($0)
                })
            {
                return value
            }
        }
        return id
    }

    func systemLog() throws -> SystemLog {
        SystemLog(sql: try sqlDatabase, now: desk.config.now, logger: logger)
    }
}

extension Application {
    /// A writer for `table` that hashes passwords with this app's hasher and seals secrets with the master key.
    func tableWrite(_ table: TableSchema, sql: any SQLDatabase, by userName: String) -> TableWrite {
        let masterKey = desk.config.masterKey
        return TableWrite(
            table: table, sql: sql, userName: userName, now: desk.config.now(),
            hashPassword: { [self] in try await self.password.async.hash($0) },
            sealSecret: { try masterKey.seal($0) })
    }
}

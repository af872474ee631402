import Fluent
import Foundation
import Leaf
import LeafKit
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
    app.passwords.use(.bcrypt(cost: config.passwordCost))
    app.desk = DeskContext(config: config, authenticator: DeskAuthenticator(now: config.now))

    app.views.use(.leaf)
    if let views = Bundle.module.resourceURL?.appendingPathComponent("Views").path {
        app.leaf.sources = .singleSource(
            NIOLeafFiles(
                fileio: app.fileio, limits: [.toSandbox, .onlyLeafExtensions], sandboxDirectory: views,
                viewDirectory: views))
    }
    _ = app.incidentFormTabs

    app.get("healthz") { _ in "ok" }
    try app.register(collection: TableAPIController())
    try app.register(collection: OAuthTokenController())
    let pages = app.grouped(WebPageMiddleware())
    try pages.register(collection: SignInController())
    try pages.register(collection: IncidentPages())
}

/// The desk's schema history. Append only: a shipped migration is never edited.
enum DeskMigrations {
    static let all: [any Migration] = [
        CreateDeskTables(),
        CreateOAuthTables(),
        CreateJournal(),
        CreateWebTables(),
    ]
}

/// The desk's app-wide services, stored once in `app.storage`.
struct DeskContext: Sendable {
    let config: DeskConfig
    let authenticator: DeskAuthenticator
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
        try await autoMigrate()
        try await DeskDirectory(app: self).installRoles()
    }
}

extension Request {
    var desk: DeskContext { application.desk }
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

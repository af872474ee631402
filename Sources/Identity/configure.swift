import Fluent
import Foundation
import ServerSupport
import Vapor
import WireModels

/// Sets up Identity on `app`: database and migrations, error shapes, views and routes.
package func configure(_ app: Application, config: IdentityConfig) async throws {
    try config.database.register(on: app)
    app.migrations.add(IdentityMigrations.all)

    app.middleware = Middlewares()
    app.middleware.use(app.inFlightRequests)
    app.middleware.use(NetworkPathMiddleware())
    app.middleware.use(RouteLoggingMiddleware(logLevel: .debug))
    app.middleware.use(EntraErrorMiddleware(now: config.now))
    app.middleware.use(BodyLimitMiddleware())

    if let tls = config.tls {
        try app.useTLS(tls)
    }
    app.bind(to: config.endpoint)
    app.useGuardedServer { _, reason in
        ("application/json; charset=utf-8", EntraErrorMiddleware.refusalBody(reason: reason, now: config.now()))
    }
    app.passwords.use(.bcrypt(cost: config.passwordCost))

    app.useLeafViews(in: Bundle.module)

    app.identity = IdentityContext(
        config: config,
        keyRing: SigningKeyRing(
            masterKey: config.masterKey, now: config.now, refreshInterval: config.keyRefreshInterval,
            retiredKeyGrace: config.accessTokenLifetime + 300),
        directoryCache: DirectoryCache(lifetime: config.directoryCacheLifetime, now: config.now),
        issuer: IssuerURLs(baseURL: config.endpoint.publicURL))

    app.get(IdentityPath.health.pathComponents) { _ in "ok" }
    try app.register(collection: TokenController())
    try app.register(collection: DiscoveryController())
    try app.register(collection: AuthorizeController())
    try app.register(collection: GraphController())
    try app.register(collection: SessionController())
    try app.register(collection: AdminController(adminToken: config.adminToken))
}

extension Application {
    /// Runs Identity's migrations and makes sure a signing key exists.
    package func prepareIdentity() async throws {
        try await prepareDatabase()
        _ = try await identity.keyRing.activeKey(on: db)
    }
}

extension Application {
    /// Directory management on this app's database, hashing with its password hasher and clearing its cache.
    package func directoryAdmin() -> DirectoryAdmin {
        DirectoryAdmin(database: db, now: identity.config.now, cache: identity.directoryCache) { [self] password in
            try await self.password.async.hash(password)
        }
    }
}

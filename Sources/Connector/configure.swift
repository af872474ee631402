import Fluent
import Foundation
import SQLKit
import ServerSupport
import Vapor
import WireModels

/// Sets up the Connector on `app`: database and migrations, error shapes, token checks and routes.
package func configure(_ app: Application, config: ConnectorConfig) async throws {
    try config.database.register(on: app)
    app.migrations.add(ConnectorMigrations.all)

    app.middleware = Middlewares()
    app.middleware.use(app.inFlightRequests)
    app.middleware.use(NetworkPathMiddleware())
    app.middleware.use(RouteLoggingMiddleware(logLevel: .debug))
    app.middleware.use(ConnectorErrorMiddleware(now: config.now))

    if let tls = config.tls {
        try app.useTLS(tls)
    }
    app.bind(to: config.endpoint)
    app.useGuardedServer { status, reason in
        let problem = ProblemDetails(
            title: status.reasonPhrase, status: Int(status.code), detail: reason,
            code: ConnectorErrorCode.invalidRequest.rawValue)
        let json = (try? JSONEncoder().encode(problem)).map { String(decoding: $0, as: UTF8.self) } ?? "{}"
        return ("application/problem+json", json)
    }
    let http = try LoggedHTTPClient(tls: config.tls)
    let jobs = JobRunner(tables: ConnectorContext.jobTables, now: config.now)
    app.lifecycle.use(OutboundHTTPShutdown(http: http))
    app.lifecycle.use(jobs)
    app.connector = ConnectorContext(
        config: config, http: http, keyCache: JWKSCache(now: config.now), jobs: jobs,
        solutions: SolutionCatalog(
            model: config.semanticModel, distilledQueries: config.distilledQueries,
            distillationMinimum: config.distillationMinimum))
    app.lifecycle.use(SolutionCatalogShutdown())
    app.lifecycle.use(app.connector.deliveryKick)
    jobs.every(config.graphSyncInterval, name: GraphHealthSync.jobName) { app in
        await GraphHealthSync(
            database: app.db, http: app.connector.http, config: app.connector.config, logger: app.logger
        )
        .runDue()
    }
    // Every instance delivers: the outbox's claims keep two from sending one event at once.
    jobs.everyInstance(1, name: OutboxDelivery.jobName) { app in
        await OutboxDelivery(app: app).deliverDue()
    }
    // Each instance keeps its own index: every instance checks for changes made elsewhere.
    jobs.everyInstance(SolutionCatalog.refreshInterval, name: "knowledge-base-index") { app in
        try await app.connector.solutions.refresh(from: app.knowledgeBase(app.db), logger: app.logger)
    }

    app.useLeafViews(in: Bundle.module)
    app.get(ConnectorPath.health.pathComponents) { _ in "ok" }
    // The API's own description, for clients and tools (schemathesis); generated from docs/openapi/connector.yaml.
    let openAPI =
        try Bundle.module.url(forResource: "openapi", withExtension: "json").map { try Data(contentsOf: $0) } ?? Data()
    app.get((ConnectorPath.api + "/openapi.json").pathComponents) { _ in
        Response(
            status: .ok, headers: ["Content-Type": "application/json", "Cache-Control": "max-age=300"],
            body: .init(data: openAPI))
    }
    // Body limits are checked per route, inside the error handling, so a 413 has the interface's shape.
    let routes = app.grouped(BodyLimitMiddleware())
    try routes.register(collection: ServiceHealthController())
    let api = routes.grouped(StrictJSONMiddleware())
    try api.register(collection: ProfileController())
    try api.register(collection: AdminController(adminToken: config.adminToken))
    try api.register(collection: SolutionsController())
    try api.register(collection: ServiceRequestsController(adminToken: config.adminToken))
    try api.register(collection: ArticleAdminController(adminToken: config.adminToken))
    try routes.register(collection: ProfilePages())
    try routes.register(collection: ConsolePages())
}

/// The Connector's schema history. Append only: a shipped migration is never edited.
/// Stops the knowledge base's background encoding before the database closes.
struct SolutionCatalogShutdown: LifecycleHandler {
    func shutdownAsync(_ application: Application) async {
        await application.connector.solutions.stop()
    }
}

enum ConnectorMigrations {
    static let all: [any Migration] = [
        CreateConnectorTables(),
        CreateKnowledgeBase(),
        CreateKnowledgeBaseRevision(),
        CreateServiceRequests(),
        CreateArticleVectors(),
        AddArticleVectorModel(),
        CreateQueryEncoders(),
    ]
}

/// The Connector's app-wide services, stored once in `app.storage`.
struct ConnectorContext: Sendable {
    let config: ConnectorConfig
    /// The client of every outbound call (identity provider metadata, Microsoft Graph), logged redacted.
    let http: any OutboundHTTPClient
    let keyCache: JWKSCache
    let jobs: JobRunner
    /// The knowledge base's search index.
    let solutions: SolutionCatalog
    /// Reads tenants' directories to check a case's contact, with its verdicts and tokens.
    let directory = DirectoryReader()
    /// The tokens case events are delivered to desks with.
    let repositoryTokens = RepositoryTokens()
    /// Starts a delivery pass when this instance writes an event.
    let deliveryKick = DeliveryKick()
    /// This instance's name in the outbox's claims.
    let deliveryInstance = RandomToken.urlSafe(byteCount: 12)

    static let jobTables = JobTables(prefix: "connector")
}

extension Application {
    private struct ConnectorContextKey: StorageKey {
        typealias Value = ConnectorContext
    }

    var connector: ConnectorContext {
        get {
            guard let context = storage[ConnectorContextKey.self] else {
                fatalError("The Connector is not configured: call configure(_:config:) first")
            }
            return context
        }
        set { storage[ConnectorContextKey.self] = newValue }
    }

    /// Runs the Connector's migrations and, into an empty knowledge base, imports the starter articles the team
    /// wrote (`Resources/starter-kb.jsonl`), so recommended solutions answer from the first start; then, unless
    /// a command that does not search asks not to, builds the search index from the database.
    package func prepareConnector(indexing: Bool = true) async throws {
        try await prepareDatabase()
        let knowledgeBase = knowledgeBase(db)
        if try await knowledgeBase.isEmpty,
            let url = Bundle.module.url(forResource: "starter-kb", withExtension: "jsonl")
        {
            let report = try await knowledgeBase.importJSONLines(try Data(contentsOf: url))
            logger.info("Imported the starter knowledge base", metadata: ["articles": "\(report.inserted)"])
        }
        if indexing { try await connector.solutions.refresh(from: knowledgeBase, logger: logger) }
        // An SQLite database has one Connector: a claim it finds at start is one its previous run did not finish
        // (a crash), sent again now rather than after the lease. (Instances sharing PostgreSQL wait out the lease.)
        let sql = try db.asSQL()
        if sql.dialect.name == "sqlite" {
            let released = try await OutboxStore(sql: sql, now: connector.config.now).releaseClaims()
            if released > 0 {
                logger.notice(
                    "Deliveries a previous run left claimed are due again", metadata: ["events": "\(released)"])
            }
        }
    }

    func knowledgeBase(_ database: any Database) -> KnowledgeBase {
        KnowledgeBase(database: database, now: connector.config.now)
    }

    func tenants(_ database: any Database) throws -> TenantStore {
        try connector.tenants(database)
    }

    func health(_ database: any Database) throws -> HealthStore {
        HealthStore(sql: try database.asSQL(), now: connector.config.now)
    }

    func profiles(_ database: any Database) throws -> ProfileStore {
        ProfileStore(sql: try database.asSQL(), masterKey: connector.config.masterKey, now: connector.config.now)
    }
}

extension ConnectorContext {
    func tenants(_ database: any Database) throws -> TenantStore {
        TenantStore(sql: try database.asSQL(), now: config.now)
    }
}

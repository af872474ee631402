import Foundation
import SQLKit
import ServerSupport
import SolutionSearch
import TestSupport
import Testing
import Vapor
import WireModels

@testable import Connector

/// The Connector on PostgreSQL (when `M365_TEST_POSTGRES_CONNECTOR_URL` is set), as in production: migrations,
/// service health with OData, profiles with sealed secrets, and the Graph sync's bookkeeping.
@Suite("Connector on PostgreSQL", .serialized)
struct ConnectorPostgresTests {
    static let variable = "M365_TEST_POSTGRES_CONNECTOR_URL"
    static let url = TestPostgres.url(variable)

    static let history = MigrationHistory(
        all: ConnectorMigrations.all, firstRelease: Array(ConnectorMigrations.all.prefix(1)),
        tablePrefix: "connector_")

    @Test func anUpgradedSQLiteDatabaseEqualsAFreshOne() async throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("connector-migrations-\(UUID())")
        defer { try? FileManager.default.removeItem(at: folder) }
        let schemas = try await Self.history.build(
            fresh: .sqliteFile(folder.appendingPathComponent("fresh.sqlite")),
            upgraded: .sqliteFile(folder.appendingPathComponent("upgraded.sqlite")))
        #expect(schemas.fresh == schemas.upgraded)
        #expect(schemas.fresh["connector_health_issues"]?["last_modified_at"] != nil)
    }

    @Test(.enabled(if: TestPostgres.isRequired, "CI only"))
    func ciRunsThePostgresTests() {
        #expect(Self.url != nil, "\(TestPostgres.notConfigured(Self.variable)), but CI requires them")
    }

    @Test(.enabled(if: url != nil, Comment(rawValue: TestPostgres.notConfigured(variable))))
    func anUpgradedPostgresDatabaseEqualsAFreshOne() async throws {
        let location = DatabaseLocation.postgres(url: Self.url!)
        let schemas = try await Self.history.build(fresh: location, upgraded: location)
        #expect(schemas.fresh == schemas.upgraded)
    }

    @Test(.enabled(if: url != nil, Comment(rawValue: TestPostgres.notConfigured(variable))))
    func theKnowledgeBaseAndItsIndexWorkOnPostgres() async throws {
        try await withConnector(database: .postgres(url: Self.url!)) { fx in
            let knowledgeBase = fx.connector.knowledgeBase(fx.connector.db)
            let revision = try await knowledgeBase.revision()
            let saved = try await knowledgeBase.save(KnowledgeArticle(id: "pg/1", title: "Fax gateway drops pages"))
            #expect(saved.created)
            _ = try await knowledgeBase.retire(id: "pg/1")
            #expect(try await knowledgeBase.revision() == revision + 2)
            #expect(
                try await fx.connector.connector.solutions.refresh(from: knowledgeBase, logger: fx.connector.logger))
            #expect(fx.connector.connector.solutions.index.search("fax gateway").isEmpty)
            let token = try await RecommendedSolutionsTests.registerDesk(fx)
            let (response, answer) = try await RecommendedSolutionsTests.recommend(
                fx, token: token, #"{"text":"users cannot send email in outlook on the web"}"#)
            #expect(response.status == .ok)
            #expect(answer?.serviceHealthIssues.first?.id == "EX1048213")
        }
    }

    @Test(
        .enabled(if: url != nil, Comment(rawValue: TestPostgres.notConfigured(variable))),
        .enabled(if: InstalledSemanticModel.folder != nil))
    func theLearnedQueryEncoderIsKeptOnPostgres() async throws {
        try await withConnector(
            database: .postgres(url: Self.url!),
            configure: {
                $0.semanticModel = InstalledSemanticModel.folder
                $0.distillationMinimum = 50
            }
        ) { fx in
            let catalog = fx.connector.connector.solutions
            #expect(
                try await poll(timeout: .seconds(300)) {
                    catalog.index.queryEncoder == .distilled && !catalog.isEncoding
                })
            let learned = try #require(catalog.index.distilledQueryEncoder)
            // Stored again (the conflict updates its time), and read back by another process's catalog.
            try await QueryEncoders(database: fx.connector.db).store(
                learned,
                sentences: DistilledQueryEncoder.trainingTexts(
                    of: try await fx.connector.knowledgeBase(fx.connector.db).articles()))
            #expect(try await SemanticCatalogTests.storedQueryEncoders(fx) == 1)
            let restarted = SolutionCatalog(
                model: InstalledSemanticModel.folder, distilledQueries: true, distillationMinimum: 50)
            try await restarted.refresh(from: fx.connector.knowledgeBase(fx.connector.db), logger: fx.connector.logger)
            #expect(restarted.index.queryEncoder == .distilled && restarted.queryEncoderLearnings == 0)
            await restarted.stop()
        }
    }

    @Test(.enabled(if: url != nil, Comment(rawValue: TestPostgres.notConfigured(variable))))
    func healthProfilesAndSyncWorkOnPostgres() async throws {
        try await withConnector(database: .postgres(url: Self.url!), configure: GraphHealthSyncTests.configure) { fx in
            let token = try await fx.token(fx.healthReader)
            let filtered = try await fx.get(
                "/" + ConnectorPath.issues + "?$filter=isResolved%20eq%20false&$orderby=lastModifiedDateTime%20desc",
                token: token)
            #expect(filtered.status == .ok)
            #expect((filtered.jsonObject["value"] as? [Any])?.count == 5)

            let admin = try await fx.userToken("admin@contoso.onmicrosoft.com")
            let added = try await fx.send(
                .POST, "/" + ConnectorPath.repositories, token: admin,
                json:
                    #"{"repositoryId":"pg","endpoint":"https://desk.example","authenticationType":"aad","clientSecret":"pg-secret"}"#
            )
            #expect(added.status == .created, "\(added.body.string)")
            let credentials = try await fx.connector.profiles(fx.connector.db).credentials(
                tenant: fx.tenantId, repositoryId: "pg")
            #expect(credentials?.clientSecret == "pg-secret")

            let http = GraphHealthSyncTests().graph(for: fx)
            http.expect(
                .GET, GraphHealthSyncTests.issuesURL,
                body:
                    #"{"value":[\#(GraphHealthSyncTests.issue("PG1", service: "Exchange Online", modified: "2026-11-30T09:00:00Z"))]}"#
            )
            #expect(await GraphHealthSyncTests().sync(fx, http) == .synced(issues: 1))
            http.expect(
                .GET, GraphHealthSyncTests.issuesURL + "?$filter=lastModifiedDateTime%20ge%202026-11-30T09:00:00.000Z",
                body: #"{"value":[]}"#)
            #expect(await GraphHealthSyncTests().sync(fx, http) == .synced(issues: 0))
        }
    }

    @Test(.enabled(if: url != nil, Comment(rawValue: TestPostgres.notConfigured(variable))))
    func casesAndTheirOutboxWorkOnPostgres() async throws {
        try await withConnector(database: .postgres(url: Self.url!)) { fx in
            let cases = ServiceRequestsTests()
            let token = try await cases.prepared(fx)
            let path = ServiceRequestsTests.path
            let body = ServiceRequestsTests.body(contact: "admin@contoso.onmicrosoft.com")
            async let first = fx.send(.POST, path, token: token, json: body)
            async let second = fx.send(.POST, path, token: token, json: body)
            let answers = try await [first, second]
            let numbers = Set(answers.compactMap { $0.jsonObject["number"] as? String })
            #expect(numbers.count == 1, "\(answers.map(\.body.string))")
            #expect(Set(answers.map(\.status)) == [.created, .ok] || Set(answers.map(\.status)) == [.created])
            let number = try #require(numbers.first)
            try await withThrowingTaskGroup(of: Void.self) { group in
                for index in 0..<6 {
                    group.addTask {
                        let answer = try await fx.admin(
                            .POST, "/serviceRequests/\(number)/updates", json: #"{"text":"Update \#(index)"}"#)
                        #expect(answer.status == .created, "\(answer.body.string)")
                    }
                }
                try await group.waitForAll()
            }
            let sequences = try await fx.connector.db.asSQL().select().column("sequence").from("connector_outbox")
                .orderBy("sequence").all().map { try $0.decode(column: "sequence", as: Int.self) }
            #expect(sequences == Array(1...6))
        }
    }

    /// Instances sharing PostgreSQL claim outbox events with `FOR UPDATE SKIP LOCKED`: eight claimers at once never
    /// get the same event, and each case's second event waits for its first.
    @Test(.enabled(if: url != nil, Comment(rawValue: TestPostgres.notConfigured(variable))))
    func concurrentClaimsNeverShareAnEvent() async throws {
        try await withConnector(database: .postgres(url: Self.url!)) { fx in
            let token = try await ServiceRequestsTests().prepared(fx)
            var numbers: [String] = []
            for index in 0..<5 {
                let created = try await fx.send(
                    .POST, ServiceRequestsTests.path, token: token,
                    json: ServiceRequestsTests.body(
                        contact: "admin@contoso.onmicrosoft.com", key: "claims-\(index)-key"))
                numbers.append(try #require(created.jsonObject["number"] as? String))
            }
            for number in numbers {
                for text in ["first", "second"] {
                    _ = try await fx.admin(.POST, "/serviceRequests/\(number)/updates", json: #"{"text":"\#(text)"}"#)
                }
            }
            let outbox = OutboxStore(sql: try fx.connector.db.asSQL(), now: fx.clock.provider)
            let claimed = try await withThrowingTaskGroup(of: OutboxStore.Event?.self) { group in
                for instance in 0..<8 {
                    group.addTask { try await outbox.claim(instance: "instance-\(instance)", lease: 60) }
                }
                return try await group.reduce(into: [OutboxStore.Event]()) { if let event = $1 { $0.append(event) } }
            }
            #expect(Set(claimed.map(\.id)).count == claimed.count)
            #expect(claimed.count == 5)
            #expect(claimed.allSatisfy { $0.sequence == 1 })
        }
    }
}

import Foundation
import SQLKit
import ServerSupport
import TestSupport
import Testing
import Vapor

@testable import ServiceDesk

/// The Table API on PostgreSQL (when `M365_TEST_POSTGRES_DESK_URL` is set): queries, numbers, updates, deletes.
@Suite("Desk on PostgreSQL", .serialized)
struct DeskPostgresTests {
    static let url = TestPostgres.url("M365_TEST_POSTGRES_DESK_URL")

    /// In this serialized suite: it builds and reverts the desk's tables on the shared database.
    @Test(.enabled(if: url != nil, Comment(rawValue: TestPostgres.notConfigured("M365_TEST_POSTGRES_DESK_URL"))))
    func anUpgradedPostgresDatabaseEqualsAFreshOne() async throws {
        let location = DatabaseLocation.postgres(url: Self.url!)
        try await MigrationHistoryTests.check(fresh: location, upgraded: location)
    }

    @Test(.enabled(if: TestPostgres.isRequired, "CI only"))
    func ciRunsThePostgresTests() {
        #expect(Self.url != nil, "\(TestPostgres.notConfigured("M365_TEST_POSTGRES_DESK_URL")), but CI requires them")
    }

    @Test(.enabled(if: url != nil, Comment(rawValue: TestPostgres.notConfigured("M365_TEST_POSTGRES_DESK_URL"))))
    func tableAPIWorksOnPostgres() async throws {
        try await withDesk(database: .postgres(url: Self.url!)) { app, fx in
            for index in 0..<3 {
                let res = try await app.table(
                    .POST, "incident", as: "agent",
                    json: ["short_description": "Teams %_ issue \(index)", "impact": 1, "caller_id": fx.callerId])
                #expect(res.status == .created, "\(res.body.string)")
            }
            let query = "short_descriptionLIKEteams %_^ORDERBYDESCnumber".addingPercentEncoding(
                withAllowedCharacters: .alphanumerics)!
            let list = try await app.table(
                .GET, "incident?sysparm_query=\(query)&sysparm_limit=2&sysparm_display_value=all", as: "agent")
            #expect(list.status == .ok, "\(list.body.string)")
            #expect(list.headers.first(name: "X-Total-Count") == "3")
            let numbers = list.results.compactMap { ($0["number"] as? [String: String])?["value"] }
            #expect(numbers == ["INC0010003", "INC0010002"])
            let id = try #require((list.results.first?["sys_id"] as? [String: String])?["value"])
            let resolved = try await app.table(.PATCH, "incident/\(id)", as: "agent", json: ["state": "6"])
            #expect((resolved.result["resolved_at"] as? String)?.isEmpty == false)
            #expect(try await app.table(.DELETE, "incident/\(id)", as: "admin.user").status == .noContent)
            let users = try await app.table(
                .GET, "sys_user?sysparm_query=active=true^user_nameINagent,caller", as: "caller")
            #expect(users.results.count == 2)
        }
    }

    /// LIKE on short descriptions is served by the trigram index (pg_trgm) the migrations create; the planner is
    /// told to avoid full scans, as it would on a large table, since this one holds a few rows.
    @Test(.enabled(if: url != nil, Comment(rawValue: TestPostgres.notConfigured("M365_TEST_POSTGRES_DESK_URL"))))
    func likeOnShortDescriptionsUsesTheTrigramIndex() async throws {
        try await withDesk(database: .postgres(url: Self.url!)) { app, fx in
            let plan = try await app.db.transaction { database -> [String] in
                let sql = try database.asSQL()
                try await sql.raw("SET LOCAL enable_seqscan = off").run()
                return try await sql.raw(
                    "EXPLAIN SELECT COUNT(*) FROM desk_incident WHERE LOWER(short_description) LIKE '%outlook%'"
                ).all().map { try $0.decode(column: "QUERY PLAN", as: String.self) }
            }
            #expect(plan.contains { $0.contains(AddIncidentTrigramIndex.name) }, "\(plan)")
            let res = try await app.table(
                .POST, "incident", as: "agent",
                json: ["short_description": "Outlook keeps asking for a password", "caller_id": fx.callerId])
            #expect(res.status == .created)
            let query = "short_descriptionLIKEoutLOOK keeps".addingPercentEncoding(
                withAllowedCharacters: .alphanumerics)!
            let list = try await app.table(.GET, "incident?sysparm_query=\(query)", as: "agent")
            #expect(list.headers.first(name: "X-Total-Count") == "1")
        }
    }

    /// Remembered counts (`TableCounts`) stay exact on PostgreSQL, whose change numbers are spread over shards.
    @Test(.enabled(if: url != nil, Comment(rawValue: TestPostgres.notConfigured("M365_TEST_POSTGRES_DESK_URL"))))
    func rememberedCountsStayExactOnPostgres() async throws {
        try await withDesk(database: .postgres(url: Self.url!)) { app, fixture in
            try await TableCountTests.countsStayExact(app, fixture)
        }
    }

    @Test(.enabled(if: url != nil, Comment(rawValue: TestPostgres.notConfigured("M365_TEST_POSTGRES_DESK_URL"))))
    func webSessionsThrottleAndTokenCacheWorkOnPostgres() async throws {
        try await withDesk(database: .postgres(url: Self.url!)) { app, _ in
            let browser = WebBrowser(app)
            #expect(try await browser.signIn("agent", password: "wrong").status == .unauthorized)
            #expect(try await browser.signIn("agent").status == .seeOther)
            #expect(try await browser.get("/incident_list.do").status == .ok)
            let created = try await browser.submit(
                "/incident.do?sys_id=-1", to: "/incident.do",
                [("sys_id", "-1"), ("sysparm_action", "insert"), ("short_description", "Created on PostgreSQL")])
            #expect(created.status == .seeOther)

            let sql = try #require(app.db as? any SQLDatabase)
            let cache = OutboundTokenCache(sql: sql, masterKey: DeskFixture.masterKey)
            try await cache.store("profile", token: "first", expiresAt: Date(timeIntervalSince1970: 100))
            try await cache.store("profile", token: "second", expiresAt: Date(timeIntervalSince1970: 200))
            #expect(try await cache.find("profile")?.token == "second")
            #expect(
                try await ScopePrivileges.isAllowed(
                    sourceScope: ScopePrivileges.appScope, table: "oauth_entity", operation: "read", sql: sql))
        }
    }
}

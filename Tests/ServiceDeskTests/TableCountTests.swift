import Foundation
import SQLKit
import ServerSupport
import Synchronization
import TestSupport
import Testing
import Vapor
import WireModels

@testable import ServiceDesk

/// Lists' counts are remembered until their table changes (`TableCounts` and the triggers of `AddTableVersions`):
/// whoever writes — the Table API, a statement of another process, a rolled-back transaction — the next
/// `X-Total-Count` is what a count would say.
@Suite("Remembered list counts")
struct TableCountTests {
    @Test func countsStayExactWhoeverWritesOnSQLite() async throws {
        try await withDesk { app, fixture in try await Self.countsStayExact(app, fixture) }
    }

    static func countsStayExact(_ app: Application, _ fixture: DeskFixture) async throws {
        let sql = try app.db.asSQL()
        let path = "incident?sysparm_limit=2&sysparm_query=active%3Dtrue%5EORDERBYDESCsys_updated_on"
        func listed() async throws -> String? {
            let list = try await app.table(.GET, path, as: "agent")
            #expect(list.status == .ok, "\(list.body.string)")
            return list.headers.first(name: "X-Total-Count")
        }
        func counted() async throws -> String {
            let row = try await sql.raw("SELECT COUNT(*) AS n FROM desk_incident WHERE active = \(bind: true)").first()
            return String(try #require(row).decode(column: "n", as: Int.self))
        }
        func version() async throws -> Int64 {
            try #require(try await TableCounts.version(of: "desk_incident", sql: sql))
        }

        for index in 0..<3 {
            let created = try await app.table(
                .POST, "incident", as: "agent",
                json: ["short_description": "Counted \(index)", "caller_id": fixture.callerId])
            #expect(created.status == .created)
        }
        #expect(try await listed() == "3")
        #expect(app.desk.tableCounts.count == 1)
        #expect(try await listed() == "3")

        // Through the Table API.
        let created = try await app.table(
            .POST, "incident", as: "agent", json: ["short_description": "Fourth", "caller_id": fixture.callerId])
        let id = try #require(created.result["sys_id"] as? String)
        #expect(try await listed() == "4")
        #expect(try await app.table(.PATCH, "incident/\(id)", as: "agent", json: ["state": "7"]).status == .ok)
        #expect(try await listed() == (try await counted()))

        // A statement of another process (a script, `desk seed`, a second instance) the desk never saw.
        let before = try await version()
        try await sql.raw("UPDATE desk_incident SET active = \(bind: false) WHERE short_description = 'Counted 0'")
            .run()
        #expect(try await version() > before)
        #expect(try await listed() == (try await counted()))
        try await sql.raw("DELETE FROM desk_incident WHERE short_description = 'Counted 1'").run()
        #expect(try await listed() == (try await counted()))
        #expect(try await counted() == "1")

        // A rolled-back transaction leaves the change number where it was.
        let settled = try await version()
        struct Undo: Error {}
        await #expect(throws: Undo.self) {
            try await app.db.transaction { database in
                try await database.asSQL().raw("UPDATE desk_incident SET active = \(bind: false)").run()
                throw Undo()
            }
        }
        #expect(try await version() == settled)
        #expect(try await listed() == "1")

        // The signed-in list page's count too.
        let browser = WebBrowser(app)
        try await browser.signIn("agent")
        func pageRange() async throws -> String? {
            let page = try await browser.get("/incident_list.do?sysparm_query=active%3Dtrue")
            #expect(page.status == .ok)
            return page.body.string.firstMatch(of: /1 to \d+ of (\d+)/).map { String($0.1) }
        }
        #expect(try await pageRange() == "1")
        try await sql.raw("UPDATE desk_incident SET active = \(bind: true)").run()
        #expect(try await pageRange() == (try await counted()))
        #expect(try await listed() == (try await counted()))
    }

    @Test func aCountIsReusedUntilItsTableChanges() async throws {
        try await withDesk { app, fixture in
            let sql = try app.db.asSQL()
            let counts = TableCounts(capacity: 2)
            let calls = Counter()
            func total(_ query: String) async throws -> Int {
                try await counts.total(of: DeskTables.incident, matching: try EncodedQuery.parse(query), sql: sql) {
                    calls.add()
                    return 7
                }
            }
            #expect(try await total("active=true") == 7)
            #expect(try await total("active=true^ORDERBYnumber") == 7)
            #expect(calls.value == 1, "the ordering does not change a count")
            let created = try await app.table(
                .POST, "incident", as: "agent", json: ["short_description": "New", "caller_id": fixture.callerId])
            #expect(created.status == .created)
            _ = try await total("active=true")
            #expect(calls.value == 2)
            _ = try await total("priority=1")
            #expect(calls.value == 3)
            #expect(counts.count == 2)
            _ = try await total("priority=2")
            #expect(counts.count == 1, "full: cleared, then the new count kept")

            // A table without a change number is counted every time.
            try await sql.raw("DELETE FROM desk_table_versions WHERE table_name = 'desk_incident'").run()
            #expect(try await TableCounts.version(of: "desk_incident", sql: sql) == nil)
            _ = try await total("priority=2")
            _ = try await total("priority=2")
            #expect(calls.value == 6)
        }
    }

    final class Counter: Sendable {
        private let calls = Mutex(0)
        func add() { calls.withLock { $0 += 1 } }
        var value: Int { calls.withLock { $0 } }
    }
}

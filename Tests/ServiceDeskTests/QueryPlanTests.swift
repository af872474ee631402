import Foundation
import SQLKit
import TestSupport
import Testing
import Vapor
import WireModels

@testable import ServiceDesk

/// The lists and look-ups a desk runs most are answered from indexes (SQLite's query plans), so they stay fast
/// at 100,000 incidents: no plan reads a whole table.
@Suite("Desk query plans")
struct QueryPlanTests {
    static func fullScans(_ plan: [String], of table: String) -> [String] {
        plan.filter { line in
            line.contains(" \(table)") && (line.hasPrefix("SCAN") && !line.contains("INDEX"))
        }
    }

    @Test func theMainListsAndLookupsUseIndexes() async throws {
        try await withDesk { app, fixture in
            let sql = try app.db.asSQL()
            let checks: [(TableSchema, String)] = [
                (DeskTables.incident, "active=true^ORDERBYDESCsys_updated_on"),
                (DeskTables.incident, "ORDERBYDESCsys_updated_on"),
                (DeskTables.incident, ""),
                (DeskTables.incident, "state=2^ORDERBYDESCsys_updated_on"),
                (DeskTables.incident, "priority=1^ORDERBYDESCsys_updated_on"),
                (DeskTables.incident, "caller_id=\(fixture.callerId)^ORDERBYDESCsys_updated_on"),
                (DeskTables.incident, "assigned_to=\(fixture.agentId)^active=true^ORDERBYDESCsys_updated_on"),
                (DeskTables.incident, "number=INC0010001"),
                (DeskTables.incident, "stateIN1,2,3^ORDERBYDESCnumber"),
                (DeskTables.incident, "ORDERBYDESCnumber"),
                (DeskTables.incident, "sys_id=\(fixture.agentId)"),
                (DeskTables.incident, "sys_created_on>=2026-01-01 00:00:00^ORDERBYsys_created_on"),
                (DeskTables.user, "user_name=agent"),
                (DeskTables.user, "email=agent@example.com"),
                (DeskTables.user, "ORDERBYname"),
                (DeskTables.userRole, "user=\(fixture.agentId)"),
                (DeskTables.journal, "element_id=\(fixture.agentId)^ORDERBYsys_created_on"),
            ]
            for (table, query) in checks {
                let plans = try await TableStore(table: table, sql: sql).sqlitePlans(
                    try EncodedQuery.parse(query), limit: 20)
                let scans =
                    Self.fullScans(plans.count, of: table.databaseTable)
                    + Self.fullScans(plans.page, of: table.databaseTable)
                #expect(scans.isEmpty, "\(table.name) ?\(query): \(plans.count) \(plans.page)")
            }
        }
    }

    @Test func aLikeSearchMayScanAndTheCheckSeesIt() async throws {
        // The check itself: a LIKE '%…%' search cannot use an index, and the plan says so.
        try await withDesk { app, _ in
            let plans = try await TableStore(table: DeskTables.incident, sql: try app.db.asSQL()).sqlitePlans(
                try EncodedQuery.parse("short_descriptionLIKEoutlook"), limit: 20)
            #expect(!Self.fullScans(plans.count, of: DeskTables.incident.databaseTable).isEmpty, "\(plans.count)")
        }
    }
}

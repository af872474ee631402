import Foundation
import SQLKit
import TestSupport
import Testing
import Vapor

@testable import ServiceDesk

@Suite("Desk load seed")
struct DeskLoadSeedTests {
    @Test func seedsConsistentRecordsAndTheDeskCarriesOnNumbering() async throws {
        try await withDesk { app, _ in
            let report = try await DeskLoadSeed(app: app).seed(users: 120, incidents: 1_100, journalShare: 0.3)
            #expect(report.users == 120)
            #expect(report.incidents == 1_100)
            // About 30 % of the incidents, one to three notes each.
            #expect((200...700).contains(report.workNotes), "\(report.workNotes)")
            let sql = try app.db.asSQL()
            let rows = try await sql.select().columns("number", "state", "active", "priority", "impact", "urgency")
                .columns("assigned_to", "caller_id").from(DeskTables.incident.databaseTable).all()
            #expect(rows.count == 1_100)
            let numbers = Set(try rows.map { try $0.decode(column: "number", as: String.self) })
            #expect(numbers.count == 1_100)
            #expect(numbers.contains("INC0010001") && numbers.contains("INC0011100"))
            for row in rows {
                let state = try row.decode(column: "state", as: Int.self)
                #expect(try row.decode(column: "active", as: Bool.self) == TableRules.activeStates.contains(state))
                #expect(
                    try row.decode(column: "priority", as: Int.self)
                        == TableRules.priority(
                            impact: try row.decode(column: "impact", as: Int.self),
                            urgency: try row.decode(column: "urgency", as: Int.self)))
                if state == 1 { #expect(try row.decode(column: "assigned_to", as: String?.self) == nil) }
            }
            let states = Set(try rows.map { try $0.decode(column: "state", as: Int.self) })
            #expect(states.isSuperset(of: [1, 2, 6, 7]))
            // The desk's own numbering carries on after the seeded incidents.
            let created = try await app.table(
                .POST, "incident", as: "agent", json: ["short_description": "After the seed"])
            #expect(created.result["number"] as? String == "INC0011101")
            // Every tenth seeded user is an agent.
            let agents = try await sql.select().column("sys_id").from(DeskTables.userRole.databaseTable)
                .where("sys_created_by", .equal, "load.seed").all()
            #expect(agents.count == 12)
            // Seeded users cannot sign in.
            let user = try #require(
                try await sql.select().column("user_name").from(DeskTables.user.databaseTable)
                    .where("sys_created_by", .equal, "load.seed").first()?.decode(column: "user_name", as: String.self))
            #expect(try await WebBrowser(app).signIn(user, password: "anything").status == .unauthorized)
        }
    }

    @Test func theSameSeedMakesTheSameDesk() async throws {
        var shapes: [[String]] = []
        for _ in 0..<2 {
            try await withDesk { app, _ in
                _ = try await DeskLoadSeed(app: app).seed(users: 20, incidents: 50, seed: 7)
                shapes.append(
                    try await app.db.asSQL().select().columns("number", "short_description", "state")
                        .from(DeskTables.incident.databaseTable).orderBy("number").all()
                        .map {
                            "\(try $0.decode(column: "number", as: String.self)) "
                                + "\(try $0.decode(column: "short_description", as: String.self)) "
                                + "\(try $0.decode(column: "state", as: Int.self))"
                        })
            }
        }
        #expect(shapes[0] == shapes[1])
    }
}

import Foundation
import TestSupport
import Testing
import Vapor
import VaporTesting

@testable import ServiceDesk

/// Writes at once on an SQLite file (several pooled connections): each waits for the write lock instead of
/// failing with "database is locked".
@Suite("Desk concurrent writes")
struct ConcurrentWriteTests {
    @Test func simultaneousUpdatesOfAnSQLiteFileDeskAllSucceed() async throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("desk-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: folder) }
        try await withDesk(database: .sqliteFile(folder.appendingPathComponent("desk.sqlite"))) { app, fixture in
            var ids: [String] = []
            for index in 0..<4 {
                let created = try await app.table(
                    .POST, "incident", as: "agent",
                    json: ["short_description": "Concurrent \(index)", "caller_id": fixture.callerId])
                ids.append(try #require(created.result["sys_id"] as? String))
            }
            let incidents = ids
            let statuses = try await withThrowingTaskGroup(of: UInt.self) { group in
                for round in 0..<40 {
                    group.addTask {
                        let id = incidents[round % incidents.count]
                        return try await app.table(
                            .PATCH, "incident/\(id)", as: "agent",
                            json: ["work_notes": "note \(round)", "impact": 1 + round % 3]
                        ).status.code
                    }
                }
                return try await group.reduce(into: []) { $0.append($1) }
            }
            #expect(statuses.allSatisfy { $0 == 200 }, "\(statuses)")
        }
    }
}

import Foundation
import SQLKit

/// A user's directly given roles, set to exactly `wanted` inside a write transaction: assignments removed and
/// added through the one write path.
enum UserRoles {
    static func set(_ wanted: Set<String>, of userId: String, writer: RecordService.Writer) async throws {
        let sql = writer.sql
        let ids = Dictionary(
            uniqueKeysWithValues: try await DeskQueries(sql: sql).roles().map { ($0.name, $0.sysId) })
        let held = try await DeskAuthenticator.directRoles(of: userId, sql: sql)
        let assignments = try await sql.select().columns("sys_id", "role").from(DeskTables.userRole.databaseTable)
            .where("user", .equal, userId).all()
        for name in held.subtracting(wanted) {
            guard let roleId = ids[name] else { continue }
            for row in assignments where try row.decode(column: "role", as: String.self) == roleId {
                _ = try await writer.delete(DeskTables.userRole, try row.decode(column: "sys_id", as: String.self))
            }
        }
        for name in wanted.subtracting(held) {
            guard let roleId = ids[name] else { throw DeskError.badRequest("Unknown role '\(name)'", detail: nil) }
            _ = try await writer.insert(DeskTables.userRole, RecordService.Fields(["user": userId, "role": roleId]))
        }
    }
}

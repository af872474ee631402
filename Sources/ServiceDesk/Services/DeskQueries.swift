import Foundation
import SQLKit
import WireModels

/// The reads pages need besides a table's own list and record (choices for selects, related records), so pages
/// call services and no SQL of their own.
struct DeskQueries {
    let sql: any SQLDatabase

    struct Person: Sendable {
        let sysId: String
        /// The display name, or the user ID when there is none.
        let label: String
    }

    /// Active users by name (at most `limit`), for caller and assignee choices.
    func activePeople(limit: Int = 1000) async throws -> [Person] {
        try await sql.select().columns("sys_id", "name", "user_name").from(DeskTables.user.databaseTable)
            .where("active", .equal, true).orderBy("name").limit(limit).all()
            .map { row in
                Person(
                    sysId: try row.decode(column: "sys_id", as: String.self),
                    label: try row.decode(column: "name", as: String?.self)
                        ?? (try row.decode(column: "user_name", as: String.self)))
            }
    }

    /// Users who may work incidents (`itil` or `admin` given directly).
    func agentIds() async throws -> Set<String> {
        Set(
            try await sql.raw(
                """
                SELECT ur.\(ident: "user") AS id FROM \(ident: DeskTables.userRole.databaseTable) ur
                JOIN \(ident: DeskTables.role.databaseTable) r ON r.sys_id = ur.role
                WHERE r.name IN (\(bind: DeskRole.itil), \(bind: DeskRole.admin))
                """
            ).all().map { try $0.decode(column: "id", as: String.self) })
    }

    struct Role: Sendable {
        let sysId: String
        let name: String
        let description: String
    }

    /// Every role by name.
    func roles() async throws -> [Role] {
        try await sql.select().columns("sys_id", "name", "description").from(DeskTables.role.databaseTable)
            .orderBy("name").all()
            .map { row in
                Role(
                    sysId: try row.decode(column: "sys_id", as: String.self),
                    name: try row.decode(column: "name", as: String.self),
                    description: try row.decode(column: "description", as: String?.self) ?? "")
            }
    }

    struct Profile: Sendable {
        let sysId: String
        let name: String
    }

    /// The OAuth profiles of an entity, the default first.
    func profiles(ofEntity sysId: String) async throws -> [Profile] {
        try await sql.select().columns("sys_id", "name").from(DeskTables.oauthEntityProfile.databaseTable)
            .where("oauth_entity", .equal, sysId).orderBy("is_default", .descending).orderBy("name").all()
            .map {
                Profile(
                    sysId: try $0.decode(column: "sys_id", as: String.self),
                    name: try $0.decode(column: "name", as: String.self))
            }
    }
}

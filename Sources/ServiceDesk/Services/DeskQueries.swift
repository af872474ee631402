import Foundation
import SQLKit
import WireModels

/// The reads pages need besides a table's own list and record (choices for selects, related records), so pages
/// call services and no SQL of their own.
struct DeskQueries {
    let sql: any SQLDatabase

    /// A user as a reference field shows and picks them.
    struct UserChoice: Sendable, Encodable {
        let sysId: String
        /// The user ID: unique, so a form sends it back and the desk resolves it.
        let userName: String
        let name: String
        let email: String
    }

    /// The users `sysIds` names (a record's references), by `sys_id`.
    func users(_ sysIds: [String]) async throws -> [String: UserChoice] {
        let wanted = sysIds.filter { !$0.isEmpty }
        guard !wanted.isEmpty else { return [:] }
        let rows = try await sql.select().columns("sys_id", "user_name", "name", "email")
            .from(DeskTables.user.databaseTable).where("sys_id", .in, wanted).all()
        var found: [String: UserChoice] = [:]
        for row in rows {
            let choice = try Self.choice(row)
            found[choice.sysId] = choice
        }
        return found
    }

    /// Active, interactive users whose user ID or e-mail starts with `text` or whose name contains it (any
    /// case), by name, at most `limit`; only agents (`itil` or `admin` given directly) when `agentsOnly`.
    func searchUsers(_ text: String, agentsOnly: Bool, limit: Int) async throws -> [UserChoice] {
        let needle = text.trimmingCharacters(in: .whitespaces).lowercased()
        let escaped = TableStore.escapeLike(needle)
        var statement: SQLQueryString = """
            SELECT u.sys_id AS sys_id, u.user_name AS user_name, u.name AS name, u.email AS email
            FROM \(ident: DeskTables.user.databaseTable) u
            WHERE u.active = \(bind: true) AND (u.web_service_access_only IS NULL OR u.web_service_access_only = \(bind: false))
            """
        if !needle.isEmpty {
            statement += """
                 AND (LOWER(u.user_name) LIKE \(bind: escaped + "%") ESCAPE '\\'
                   OR LOWER(u.email) LIKE \(bind: escaped + "%") ESCAPE '\\'
                   OR LOWER(u.name) LIKE \(bind: "%" + escaped + "%") ESCAPE '\\')
                """
        }
        if agentsOnly {
            statement += """
                 AND u.sys_id IN (SELECT ur.\(ident: "user") FROM \(ident: DeskTables.userRole.databaseTable) ur
                   JOIN \(ident: DeskTables.role.databaseTable) r ON r.sys_id = ur.role
                   WHERE r.name IN (\(bind: DeskRole.itil), \(bind: DeskRole.admin)))
                """
        }
        statement += " ORDER BY u.name, u.sys_id LIMIT \(literal: max(1, min(limit, 50)))"
        return try await sql.raw(statement).all().map(Self.choice)
    }

    private static func choice(_ row: any SQLRow) throws -> UserChoice {
        let userName = try row.decode(column: "user_name", as: String.self)
        return UserChoice(
            sysId: try row.decode(column: "sys_id", as: String.self), userName: userName,
            name: try row.decode(column: "name", as: String?.self) ?? userName,
            email: try row.decode(column: "email", as: String?.self) ?? "")
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

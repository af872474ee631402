import Crypto
import Foundation
import SQLKit
import Synchronization
import Vapor

/// Who is calling, with every role they hold (contained roles included).
struct DeskPrincipal: Sendable {
    let sysId: String
    let userName: String
    let roles: Set<String>
    let webServiceAccessOnly: Bool

    /// `admin` passes every check, as in ServiceNow.
    func hasAny(of wanted: Set<String>) -> Bool {
        roles.contains("admin") || !roles.isDisjoint(with: wanted)
    }
}

/// Checks HTTP Basic credentials of desk users (bcrypt), remembering a good pair for a minute so API
/// clients that send Basic on every call do not pay a bcrypt check each time.
final class DeskAuthenticator: Sendable {
    private struct Remembered {
        let principal: DeskPrincipal
        let until: Date
    }

    private let remembered = Mutex<[String: Remembered]>([:])
    private let lifetime: TimeInterval = 60
    private let now: @Sendable () -> Date

    init(now: @escaping @Sendable () -> Date) {
        self.now = now
    }

    /// Forgets every remembered credential: users, passwords or roles changed.
    func forgetAll() {
        remembered.withLock { $0.removeAll() }
    }

    func principal(for request: Request) async throws -> DeskPrincipal {
        guard let basic = request.headers.basicAuthorization else { throw DeskError.notAuthenticated }
        let key = Data(SHA256.hash(data: Data("\(basic.username)\u{0}\(basic.password)".utf8))).base64EncodedString()
        let current = now()
        if let hit = remembered.withLock({ $0[key] }), hit.until > current { return hit.principal }

        guard let sql = request.db as? any SQLDatabase,
            let row = try await sql.select()
                .columns("sys_id", "user_password", "active", "web_service_access_only")
                .from(DeskTables.user.databaseTable)
                .where("user_name", .equal, basic.username)
                .first(),
            try row.decode(column: "active", as: Bool?.self) ?? false,
            let hash = try row.decode(column: "user_password", as: String?.self),
            try await request.password.async.verify(basic.password, created: hash)
        else { throw DeskError.notAuthenticated }
        let sysId = try row.decode(column: "sys_id", as: String.self)
        let principal = DeskPrincipal(
            sysId: sysId, userName: basic.username, roles: try await Self.roles(of: sysId, sql: sql),
            webServiceAccessOnly: try row.decode(column: "web_service_access_only", as: Bool?.self) ?? false)
        remembered.withLock { $0[key] = Remembered(principal: principal, until: current.addingTimeInterval(lifetime)) }
        return principal
    }

    /// The user's roles and, transitively, the roles they contain.
    static func roles(of userSysId: String, sql: any SQLDatabase) async throws -> Set<String> {
        let rows = try await sql.raw(
            """
            SELECT r.name AS name FROM \(ident: DeskTables.userRole.databaseTable) ur
            JOIN \(ident: DeskTables.role.databaseTable) r ON r.sys_id = ur.role
            WHERE ur.\(ident: "user") = \(bind: userSysId)
            """
        ).all()
        var roles = Set(try rows.map { try $0.decode(column: "name", as: String.self) })
        let allRoles = try await sql.select().columns("name", "contains_roles").from(DeskTables.role.databaseTable)
            .all()
        var contains: [String: [String]] = [:]
        for row in allRoles {
            let name = try row.decode(column: "name", as: String.self)
            let list = try row.decode(column: "contains_roles", as: String?.self) ?? ""
            contains[name] = list.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
        }
        var queue = Array(roles)
        while let role = queue.popLast() {
            for inner in contains[role] ?? [] where !roles.contains(inner) {
                roles.insert(inner)
                queue.append(inner)
            }
        }
        return roles
    }
}

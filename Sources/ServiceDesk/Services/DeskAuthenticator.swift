import Crypto
import Foundation
import SQLKit
import ServerSupport
import Synchronization
import Vapor
import WireModels

/// Who is calling, with every role they hold (contained roles included).
struct DeskPrincipal: Sendable {
    let sysId: String
    let userName: String
    /// The display name (`sys_user.name`), or the user name when there is none.
    let name: String
    let roles: Set<String>
    let webServiceAccessOnly: Bool

    /// `admin` passes every check, as in ServiceNow.
    func hasAny(of wanted: Set<String>) -> Bool {
        roles.contains(DeskRole.admin) || !roles.isDisjoint(with: wanted)
    }
}

/// An authenticated API caller.
struct DeskCaller: Sendable {
    let principal: DeskPrincipal
    let via: DeskCredential
}

/// How an API caller proved who they are.
package enum DeskCredential: Sendable, Equatable {
    /// HTTP Basic: a desk user's name and password.
    case basic
    /// An access token of `/oauth_token.do`, issued to the inbound OAuth entity `entity` (its `sys_id`).
    case oauthToken(entity: String)
    /// An external JWT verified through the OIDC provider entity `entity` (its `sys_id`).
    case externalToken(entity: String)
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

    /// The caller of an API request: HTTP Basic (a desk user) or Bearer (an `/oauth_token.do` access token).
    func principal(for request: Request) async throws -> DeskPrincipal {
        try await caller(for: request).principal
    }

    /// The caller of an API request and how they proved it.
    func caller(for request: Request) async throws -> DeskCaller {
        guard let sql = request.db as? any SQLDatabase else { throw DeskError.internalError }
        if let bearer = request.headers.bearerAuthorization {
            // As ServiceNow: first a token of `/oauth_token.do`, then an external JWT checked by an OIDC provider.
            let store = OAuthTokenStore(sql: sql, now: now())
            if let grant = try await store.find(bearer.token, kind: .access) {
                guard try await InboundOAuthEntity.isActive(grant.entitySysId, sql: sql),
                    let principal = try await Self.principal(where: "sys_id", equals: grant.userSysId, sql: sql)
                else { throw DeskError.notAuthenticated }
                return DeskCaller(principal: principal, via: .oauthToken(entity: grant.entitySysId))
            }
            guard bearer.token.utf8.lazy.filter({ $0 == UInt8(ascii: ".") }).count == 2 else {
                throw DeskError.notAuthenticated
            }
            return try await verifyExternal(bearer.token, request: request, sql: sql)
        }
        guard let basic = request.headers.basicAuthorization else { throw DeskError.notAuthenticated }
        switch try await checkPassword(userName: basic.username, password: basic.password, request: request) {
        case .accepted(let principal): return DeskCaller(principal: principal, via: .basic)
        case .refused: throw DeskError.notAuthenticated
        case .throttled(let wait): throw DeskError.tooManyAttempts(retryAfter: wait)
        }
    }

    /// An external JWT verified by an OIDC provider entity; a refusal is logged with its reason in the system log.
    private func verifyExternal(_ token: String, request: Request, sql: any SQLDatabase) async throws -> DeskCaller {
        let verifier = OIDCTokenVerifier(
            sql: sql, cache: request.desk.oidcCache, http: request.desk.http, now: now, logger: request.logger,
            correlationId: request.correlationId)
        do {
            let (principal, entity) = try await verifier.verifyWithEntity(token)
            return DeskCaller(principal: principal, via: .externalToken(entity: entity))
        } catch let refusal as OIDCTokenVerifier.Refusal {
            try await request.systemLog().writeRefusal(
                source: "oauth", "Bearer token refused: \(refusal.reason)",
                address: Self.clientAddress(request), correlationId: request.correlationId)
            throw DeskError.notAuthenticated
        } catch let failure as OutboundFailure {
            try await request.systemLog().write(
                .error, source: "oauth",
                "Bearer token not checked: the OIDC provider's metadata could not be read. \(failure) "
                    + "(outbound HTTP log entry \(failure.logId))",
                correlationId: request.correlationId)
            throw DeskError.notAuthenticated
        }
    }

    /// The outcome of a user name and password presented to the desk.
    enum PasswordCheck: Sendable {
        case accepted(DeskPrincipal)
        case refused
        /// Too many failures for this user name or client address: refused without a password hash.
        case throttled(retryAfter: TimeInterval)
    }

    /// The table of failed password checks the desk's ``SignInThrottle`` counts.
    static let throttleTable = "desk_signin_failures"

    /// Checks a user name and password from any of the desk's ways in (web sign-in, HTTP Basic, the password
    /// grant), all counted by one throttle: failures are recorded, a success clears the user name's failures.
    func checkPassword(userName: String, password: String, request: Request) async throws -> PasswordCheck {
        let key = Data(SHA256.hash(data: Data("\(userName)\u{0}\(password)".utf8))).base64EncodedString()
        let current = now()
        // Remembered pairs were verified within the last minute: no hash to spend, nothing to throttle.
        if let hit = remembered.withLock({ $0[key] }), hit.until > current { return .accepted(hit.principal) }
        let sql = try request.sqlDatabase
        let throttle = SignInThrottle(table: Self.throttleTable, sql: sql, now: current)
        let address = Self.clientAddress(request)
        if let wait = try await throttle.retryAfter(userName: userName, address: address) {
            request.logger.warning(
                "Password check refused: too many failed attempts",
                metadata: ["user": "\(userName.prefix(256))", "client.address": "\(address ?? "")"])
            return .throttled(retryAfter: wait)
        }
        guard let principal = try await verify(userName: userName, password: password, sql: sql, request: request)
        else {
            try await throttle.recordFailure(userName: userName, address: address)
            return .refused
        }
        try await throttle.clear(userName: userName)
        remembered.withLock { $0[key] = Remembered(principal: principal, until: current.addingTimeInterval(lifetime)) }
        return .accepted(principal)
    }

    /// The active user with this name and password, or nil. A password no user could have set (a NUL, more
    /// than bcrypt's 72 bytes) never matches and costs no hash.
    private func verify(userName: String, password: String, sql: any SQLDatabase, request: Request) async throws
        -> DeskPrincipal?
    {
        guard PasswordRules.mayVerify(password), !userName.isEmpty, userName.utf8.count <= 256,
            let row = try await sql.select().columns("user_password").from(DeskTables.user.databaseTable)
                .where("user_name", .equal, userName).where("active", .equal, true).first(),
            let hash = try row.decode(column: "user_password", as: String?.self),
            try await request.password.async.verify(password, created: hash)
        else { return nil }
        return try await Self.principal(where: "user_name", equals: userName, sql: sql)
    }

    /// The caller's address: the peer, or behind a trusted load balancer the address it forwarded.
    static func clientAddress(_ request: Request) -> String? {
        request.clientAddress(trustingForwardedFor: request.desk.config.trustsForwardedFor)
    }

    /// Whether the user exists and is active (deactivating a user revokes their tokens).
    static func isActiveUser(_ sysId: String, sql: any SQLDatabase) async throws -> Bool {
        try await principal(where: "sys_id", equals: sysId, sql: sql) != nil
    }

    /// The active user with this `sys_id`, with their roles.
    static func principal(sysId: String, sql: any SQLDatabase) async throws -> DeskPrincipal? {
        try await principal(where: "sys_id", equals: sysId, sql: sql)
    }

    static func principal(where column: String, equals value: String, sql: any SQLDatabase) async throws
        -> DeskPrincipal?
    {
        guard
            let row = try await sql.select()
                .columns("sys_id", "user_name", "name", "web_service_access_only")
                .from(DeskTables.user.databaseTable)
                .where(SQLIdentifier(column), .equal, SQLBind(value))
                .where("active", .equal, true)
                .first()
        else { return nil }
        let sysId = try row.decode(column: "sys_id", as: String.self)
        let userName = try row.decode(column: "user_name", as: String.self)
        return DeskPrincipal(
            sysId: sysId, userName: userName, name: try row.decode(column: "name", as: String?.self) ?? userName,
            roles: try await roles(of: sysId, sql: sql),
            webServiceAccessOnly: try row.decode(column: "web_service_access_only", as: Bool?.self) ?? false)
    }

    /// The roles given to the user directly (`sys_user_has_role`), without the roles they contain.
    static func directRoles(of userSysId: String, sql: any SQLDatabase) async throws -> Set<String> {
        let rows = try await sql.raw(
            """
            SELECT r.name AS name FROM \(ident: DeskTables.userRole.databaseTable) ur
            JOIN \(ident: DeskTables.role.databaseTable) r ON r.sys_id = ur.role
            WHERE ur.\(ident: "user") = \(bind: userSysId)
            """
        ).all()
        return Set(try rows.map { try $0.decode(column: "name", as: String.self) })
    }

    /// The user's roles and, transitively, the roles they contain.
    static func roles(of userSysId: String, sql: any SQLDatabase) async throws -> Set<String> {
        try await RoleGraph(sql: sql).expanding(try await directRoles(of: userSysId, sql: sql))
    }

    /// Active users by `sys_id`, each read with the same query and their roles with one more for all of them: a
    /// list of users without a query per user.
    static func principals(sysIds: [String], sql: any SQLDatabase) async throws -> [String: (DeskPrincipal, String)] {
        guard !sysIds.isEmpty else { return [:] }
        let rows = try await sql.select()
            .columns("sys_id", "user_name", "name", "web_service_access_only", "email")
            .from(DeskTables.user.databaseTable)
            .where(SQLIdentifier("sys_id"), .in, SQLBind.group(sysIds))
            .where("active", .equal, true)
            .all()
        let assignments = try await sql.raw(
            """
            SELECT ur.\(ident: "user") AS holder, r.name AS name FROM \(ident: DeskTables.userRole.databaseTable) ur
            JOIN \(ident: DeskTables.role.databaseTable) r ON r.sys_id = ur.role
            WHERE ur.\(ident: "user") IN (\(binds: sysIds))
            """
        ).all()
        var direct: [String: Set<String>] = [:]
        for row in assignments {
            direct[try row.decode(column: "holder", as: String.self), default: []].insert(
                try row.decode(column: "name", as: String.self))
        }
        let graph = try await RoleGraph(sql: sql)
        var result: [String: (DeskPrincipal, String)] = [:]
        for row in rows {
            let sysId = try row.decode(column: "sys_id", as: String.self)
            let userName = try row.decode(column: "user_name", as: String.self)
            let principal = DeskPrincipal(
                sysId: sysId, userName: userName,
                name: try row.decode(column: "name", as: String?.self) ?? userName,
                roles: graph.expanding(direct[sysId] ?? []),
                webServiceAccessOnly: try row.decode(column: "web_service_access_only", as: Bool?.self) ?? false)
            result[sysId] = (principal, try row.decode(column: "email", as: String?.self) ?? "")
        }
        return result
    }
}

/// Which roles each role contains (`contains_roles`), read once, to expand a user's roles transitively.
struct RoleGraph {
    private var contains: [String: [String]] = [:]

    init(sql: any SQLDatabase) async throws {
        for row in try await sql.select().columns("name", "contains_roles").from(DeskTables.role.databaseTable).all() {
            let name = try row.decode(column: "name", as: String.self)
            let list = try row.decode(column: "contains_roles", as: String?.self) ?? ""
            contains[name] = list.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
        }
    }

    /// `direct` and every role they contain, however deep.
    func expanding(_ direct: Set<String>) -> Set<String> {
        var roles = direct
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

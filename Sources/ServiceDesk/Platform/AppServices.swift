import AsyncHTTPClient
import Foundation
import NIOCore
import SQLKit
import ServerSupport
import Vapor
import WireModels

/// What a scoped app's code uses of the platform while it serves one request: its own tables, the desk's tables
/// through its cross-scope privileges, the system log, and outbound calls — OAuth tokens from the Application
/// Registry and the logged HTTP client — so an app never opens a second client, log or token cache.
package struct DeskAppServices: Sendable {
    package enum LogLevel: Sendable {
        case information, warning, error

        var systemLevel: SystemLog.Level {
            switch self {
            case .information: .information
            case .warning: .warning
            case .error: .error
            }
        }
    }

    package let scope: String
    let request: Request

    /// The database holding the desk and its apps' tables.
    package let sql: any SQLDatabase
    /// Ties the system log, the outbound HTTP log and the process log together for this request.
    package var correlationId: String { request.correlationId }
    package var now: Date { request.desk.config.now() }
    /// The desk's own address as its users and callers reach it.
    package var publicURL: String { request.desk.config.endpoint.publicURL }
    /// The desk's tables, read as the scope's cross-scope privileges allow.
    package var tables: ScopedTableAccess { ScopedTableAccess(scope: scope, sql: sql) }

    /// Writes a system log entry with the scope as its source; returns the entry's `sys_id` for a failure
    /// message to point at.
    @discardableResult
    package func log(_ level: LogLevel, _ message: String) async -> String {
        await SystemLog(sql: sql, now: request.desk.config.now, logger: request.logger).write(
            level.systemLevel, source: scope, message, correlationId: correlationId)
    }

    /// An access token from the third-party provider of OAuth profile `profileId` (cached until shortly before
    /// it expires); reading the Application Registry is checked against the scope's cross-scope privileges.
    package func outboundToken(profileId: String, forceRefresh: Bool = false) async throws -> OutboundOAuth.Token {
        try await OutboundOAuth(
            sql: sql, http: request.desk.http, masterKey: request.desk.config.masterKey, now: request.desk.config.now,
            logger: request.logger, correlationId: correlationId, callerScope: scope
        ).token(profileId: profileId, forceRefresh: forceRefresh)
    }

    /// Writes a refused call to the system log (source: the scope): the first of a `category` (a fixed word
    /// naming the reason, never caller input) per caller address and minute is an entry, repeats are counted on
    /// it, so a caller hammering the app cannot flood the log.
    package func logRefusal(_ message: String, category: String) async {
        await SystemLog(sql: sql, now: request.desk.config.now, logger: request.logger).writeRefusal(
            source: scope, category: category, message, address: DeskAuthenticator.clientAddress(request),
            correlationId: correlationId)
    }

    /// Drops the cached token of `profileId` (the receiver refused it).
    package func forgetToken(profileId: String) async throws {
        try await OutboundTokenCache(sql: sql, masterKey: request.desk.config.masterKey).remove(profileId: profileId)
    }

    /// Sends `request` with the desk's HTTP client and records it in the outbound HTTP log (source: the scope);
    /// `secrets` are redacted from the log.
    package func send(_ outbound: HTTPClientRequest, body: ByteBuffer? = nil, secrets: [String] = []) async throws
        -> OutboundExchange
    {
        try await request.desk.http.send(
            outbound, body: body, source: scope, correlationId: correlationId, secrets: secrets, sql: sql,
            now: request.desk.config.now, logger: request.logger)
    }

    /// The OAuth profiles of third-party providers (`oauth_provider` entities), for an app's settings to pick
    /// from; read through the scope's cross-scope privileges.
    package func providerProfiles() async throws -> [ProviderProfile] {
        for table in [DeskTables.oauthEntity.name, DeskTables.oauthEntityProfile.name] {
            try await ScopePrivileges.require(sourceScope: scope, table: table, operation: "read", sql: sql)
        }
        return try await sql.raw(
            """
            SELECT p.sys_id AS profile, p.name AS profile_name, e.sys_id AS entity, e.name AS entity_name,
                   e.client_id AS client_id, e.token_url AS token_url, e.active AS active
            FROM \(ident: DeskTables.oauthEntityProfile.databaseTable) p
            JOIN \(ident: DeskTables.oauthEntity.databaseTable) e ON e.sys_id = p.oauth_entity
            WHERE e.type = 'oauth_provider'
            ORDER BY e.name, p.name
            """
        ).all().map { row in
            ProviderProfile(
                profileId: try row.decode(column: "profile", as: String.self),
                profileName: try row.decode(column: "profile_name", as: String?.self) ?? "",
                entityId: try row.decode(column: "entity", as: String.self),
                entityName: try row.decode(column: "entity_name", as: String?.self) ?? "",
                clientId: try row.decode(column: "client_id", as: String?.self) ?? "",
                tokenURL: try row.decode(column: "token_url", as: String?.self) ?? "",
                active: try row.decode(column: "active", as: Bool?.self) ?? false)
        }
    }

    /// An OAuth profile of a third-party provider, without its secret.
    package struct ProviderProfile: Sendable, Equatable {
        package let profileId: String
        package let profileName: String
        package let entityId: String
        package let entityName: String
        package let clientId: String
        package let tokenURL: String
        package let active: Bool
    }
}

extension DeskAppServices {
    /// The caller's network address (behind a trusted load balancer, the one it forwarded).
    package var clientAddress: String? { DeskAuthenticator.clientAddress(request) }

    /// Runs `body` in one transaction of the desk's one write path, as `userName`: the app's own tables through
    /// `writer.sql` and the desk's records through `writer`, all written or none.
    package func transaction<T: Sendable>(
        by userName: String, _ body: @escaping @Sendable (DeskAppWriter) async throws -> T
    ) async throws -> T {
        let scope = self.scope
        return try await RecordService(request: request, by: userName).transaction { writer in
            try await body(DeskAppWriter(scope: scope, writer: writer))
        }
    }

    /// The inbound OAuth clients ("OAuth API endpoint for external clients") of the Application Registry.
    package func inboundClients() async throws -> [RegistryEntity] {
        try await registryEntities(type: "client")
    }

    /// The OIDC provider entities of the Application Registry, with their configuration's metadata URL.
    package func oidcEntities() async throws -> [RegistryEntity] {
        try await registryEntities(type: "oidc_provider")
    }

    private func registryEntities(type: String) async throws -> [RegistryEntity] {
        for table in [DeskTables.oauthEntity.name, DeskTables.oidcProviderConfiguration.name] {
            try await ScopePrivileges.require(sourceScope: scope, table: table, operation: "read", sql: sql)
        }
        return try await sql.raw(
            """
            SELECT e.sys_id AS entity, e.name AS name, e.client_id AS client_id, e.active AS active,
                   c.oidc_metadata_url AS metadata, c.user_claim AS claim, c.user_field AS field
            FROM \(ident: DeskTables.oauthEntity.databaseTable) e
            LEFT JOIN \(ident: DeskTables.oidcProviderConfiguration.databaseTable) c ON c.sys_id = e.oidc_provider_configuration
            WHERE e.type = \(bind: type)
            ORDER BY e.name
            """
        ).all().map { row in
            RegistryEntity(
                sysId: try row.decode(column: "entity", as: String.self),
                name: try row.decode(column: "name", as: String?.self) ?? "",
                clientId: try row.decode(column: "client_id", as: String?.self) ?? "",
                active: try row.decode(column: "active", as: Bool?.self) ?? false,
                metadataURL: try row.decode(column: "metadata", as: String?.self),
                userClaim: try row.decode(column: "claim", as: String?.self),
                userField: try row.decode(column: "field", as: String?.self))
        }
    }

    /// The active desk user with this `sys_id` or user name (`user_id`), read through the scope's privileges.
    package func user(sysIdOrUserName value: String) async throws -> DeskAppUser? {
        try await ScopePrivileges.require(
            sourceScope: scope, table: DeskTables.user.name, operation: "read", sql: sql)
        let column = TableStore.isSysId(value) ? "sys_id" : "user_name"
        var principal = try await DeskAuthenticator.principal(where: column, equals: value, sql: sql)
        if principal == nil, column == "sys_id" {
            principal = try await DeskAuthenticator.principal(where: "user_name", equals: value, sql: sql)
        }
        guard let principal else { return nil }
        let email =
            try await sql.select().column("email").from(DeskTables.user.databaseTable)
            .where("sys_id", .equal, principal.sysId).first()?.decode(column: "email", as: String?.self) ?? ""
        return DeskAppUser(principal: principal, email: email)
    }

    /// Active users who may only call web services, for an app's integration-user choice.
    package func webServiceUsers(limit: Int = 200) async throws -> [DeskAppUser] {
        try await ScopePrivileges.require(
            sourceScope: scope, table: DeskTables.user.name, operation: "read", sql: sql)
        let ids = try await sql.select().column("sys_id").from(DeskTables.user.databaseTable)
            .where("active", .equal, true).where("web_service_access_only", .equal, true)
            .orderBy("user_name").limit(max(1, min(limit, 1000))).all()
            .map { try $0.decode(column: "sys_id", as: String.self) }
        let found = try await DeskAuthenticator.principals(sysIds: ids, sql: sql)
        return ids.compactMap { id in found[id].map { DeskAppUser(principal: $0.0, email: $0.1) } }
    }

    /// A registered entity of the Application Registry, without its secret.
    package struct RegistryEntity: Sendable, Equatable {
        package let sysId: String
        package let name: String
        package let clientId: String
        package let active: Bool
        /// OIDC provider entities: their configuration's metadata URL, user claim and user field.
        package let metadataURL: String?
        package let userClaim: String?
        package let userField: String?
    }
}

extension DeskAppServices {
    // MARK: Single sign-on

    /// Seals `text` with the desk's master key for a cookie only this desk can read; `purpose` keeps one kind
    /// of sealed value from passing for another.
    package func seal(_ text: String, purpose: String) throws -> String {
        try request.desk.config.masterKey.seal(scope + ":" + purpose + ":" + text)
    }

    package func open(_ sealed: String, purpose: String) -> String? {
        let prefix = scope + ":" + purpose + ":"
        guard sealed.utf8.count <= 8192, let plain = try? request.desk.config.masterKey.open(sealed),
            plain.hasPrefix(prefix)
        else { return nil }
        return String(plain.dropFirst(prefix.count))
    }

    /// Whether the desk's cookies travel over HTTPS only.
    package var usesHTTPS: Bool { request.desk.config.endpoint.publicURLIsHTTPS }

    /// Redeems an OpenID Connect authorization code with the client credentials of the OAuth provider of
    /// `profileId` (the secret never leaves the platform); the token response's text fields.
    package func redeemAuthorizationCode(profileId: String, code: String, redirectURI: String, verifier: String)
        async throws -> [String: any Sendable]
    {
        try await OutboundOAuth(
            sql: sql, http: request.desk.http, masterKey: request.desk.config.masterKey, now: request.desk.config.now,
            logger: request.logger, correlationId: correlationId, callerScope: scope
        ).redeem(profileId: profileId, code: code, redirectURI: redirectURI, verifier: verifier)
    }

    /// The claims of an ID token whose signature and issuer the provider's metadata vouch for (keys cached as for
    /// every external token the desk checks); throws a refusal with the reason otherwise.
    package func verifiedClaims(of token: String, metadataURL: String) async throws -> [String: any Sendable] {
        let jwt = try RS256JWT.parse(token)
        let source = OIDCKeySource(
            http: request.desk.http,
            log: DeskOutboundLog(sql: sql, now: request.desk.config.now, logger: request.logger),
            logger: request.logger, correlationId: correlationId, now: request.desk.config.now)
        let claims = try await OIDCTokenCheck(cache: request.desk.oidcCache, source: source).verify(
            jwt, metadataURL: metadataURL, lifespan: 3600, now: now)
        return claims.compactMapValues { value -> (any Sendable)? in
            switch value {
            case let text as String: text
            case let number as NSNumber: number.doubleValue
            case let list as [Any]: list.compactMap { $0 as? String }
            default: nil
            }
        }
    }

    /// The active desk user who may sign in to the web pages and whose e-mail is `email` (any case); nil when
    /// there is none or more than one.
    package func interactiveUser(email: String) async throws -> DeskAppUser? {
        let wanted = email.trimmingCharacters(in: .whitespaces).lowercased()
        guard !wanted.isEmpty, wanted.count <= 254 else { return nil }
        let rows = try await sql.select().column("sys_id").from(DeskTables.user.databaseTable)
            .where(SQLFunction("LOWER", args: SQLIdentifier("email")), .equal, SQLBind(wanted))
            .where("active", .equal, true).limit(2).all()
        guard rows.count == 1, let sysId = try rows.first?.decode(column: "sys_id", as: String.self),
            let principal = try await DeskAuthenticator.principal(sysId: sysId, sql: sql),
            !principal.webServiceAccessOnly
        else { return nil }
        return DeskAppUser(principal: principal, email: wanted)
    }

    /// Signs `user` in to the desk's web pages (an identity provider vouched for them as `externalAccount`) and
    /// sends the browser on to `goto` (a path on this desk).
    package func startWebSession(for user: DeskAppUser, externalAccount: String, goto: String?) async throws
        -> Response
    {
        guard !user.webServiceAccessOnly else { throw WebError.notAllowed }
        let token = try await WebSessionStore(sql: sql, now: now).create(
            userId: user.sysId, externalAccount: externalAccount)
        request.logger.info(
            "Signed in with single sign-on", metadata: ["user": "\(user.userName)", "app": "\(scope)"])
        await SystemLog(sql: sql, now: request.desk.config.now, logger: request.logger).write(
            .information, source: scope, "\(user.userName) signed in with single sign-on as \(externalAccount)",
            correlationId: correlationId)
        let response = request.seeOther(SignInController.safeGoto(goto))
        response.cookies[WebPageMiddleware.sessionCookie] = HTTPCookies.Value(
            string: token, path: "/", isSecure: usesHTTPS, isHTTPOnly: true, sameSite: .lax)
        return response
    }
}

/// A desk user as an app sees it: no password, their roles.
package struct DeskAppUser: Sendable {
    let principal: DeskPrincipal
    package let email: String

    package var sysId: String { principal.sysId }
    package var userName: String { principal.userName }
    package var name: String { principal.name }
    package var webServiceAccessOnly: Bool { principal.webServiceAccessOnly }
    package var roles: Set<String> { principal.roles }
}

/// Writes of an app inside one transaction: its own tables through `sql`, the desk's records through the desk's
/// write path (journal, rules), each checked against the scope's cross-scope privileges.
package struct DeskAppWriter: Sendable {
    let scope: String
    let writer: RecordService.Writer

    /// The transaction's connection, for the app's own tables.
    package var sql: any SQLDatabase { writer.sql }

    /// Updates a desk record (a `work_notes` field appends a journal entry); nil when there is no such record.
    @discardableResult
    package func update(_ table: String, sysId: String, _ fields: [String: String]) async throws -> [String: String?]? {
        guard let schema = DeskTables.named(table) else { throw DeskError.invalidTable(table) }
        try await ScopePrivileges.require(sourceScope: scope, table: schema.name, operation: "write", sql: sql)
        return try await writer.update(schema, sysId, .init(fields))
    }

    /// Inserts a desk record; returns it.
    package func insert(_ table: String, _ fields: [String: String]) async throws -> [String: String?] {
        guard let schema = DeskTables.named(table) else { throw DeskError.invalidTable(table) }
        try await ScopePrivileges.require(sourceScope: scope, table: schema.name, operation: "create", sql: sql)
        return try await writer.insert(schema, .init(fields))
    }

    /// Gives a user a role by name (the role must exist).
    package func grantRole(_ role: String, toUser userSysId: String) async throws {
        _ = try await insert(DeskTables.userRole.name, ["user": userSysId, "role": role])
    }
}

extension Request {
    /// The platform's services for the app `scope` on this request.
    package func deskApp(_ scope: String) throws -> DeskAppServices {
        DeskAppServices(scope: scope, request: self, sql: try sqlDatabase)
    }

    /// The caller of an app's scripted REST route: a desk user by HTTP Basic, a desk OAuth bearer token or an
    /// accepted external token, holding one of `roles` (nil: any user); refused in ServiceNow's envelope.
    package func requireAPIUser(_ roles: Set<String>? = nil) async throws -> DeskAPIUser {
        let caller = try await desk.authenticator.caller(for: self)
        if let roles, !caller.principal.hasAny(of: roles) { throw DeskError.notAuthorized }
        return DeskAPIUser(principal: caller.principal, via: caller.via)
    }
}

/// A user calling an app's REST route.
package struct DeskAPIUser: Sendable {
    let principal: DeskPrincipal
    /// How the caller authenticated.
    package let via: DeskCredential

    package var sysId: String { principal.sysId }
    package var userName: String { principal.userName }
    package var webServiceAccessOnly: Bool { principal.webServiceAccessOnly }
    package func hasAny(of roles: Set<String>) -> Bool { principal.hasAny(of: roles) }
}

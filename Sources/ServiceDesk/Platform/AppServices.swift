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

extension Request {
    /// The platform's services for the app `scope` on this request.
    package func deskApp(_ scope: String) throws -> DeskAppServices {
        DeskAppServices(scope: scope, request: self, sql: try sqlDatabase)
    }

    /// The caller of an app's scripted REST route: a desk user by HTTP Basic, a desk OAuth bearer token or an
    /// accepted external token, holding one of `roles` (nil: any user); refused in ServiceNow's envelope.
    package func requireAPIUser(_ roles: Set<String>? = nil) async throws -> DeskAPIUser {
        let principal = try await desk.authenticator.principal(for: self)
        if let roles, !principal.hasAny(of: roles) { throw DeskError.notAuthorized }
        return DeskAPIUser(principal: principal)
    }
}

/// A user calling an app's REST route.
package struct DeskAPIUser: Sendable {
    let principal: DeskPrincipal

    package var sysId: String { principal.sysId }
    package var userName: String { principal.userName }
    package func hasAny(of roles: Set<String>) -> Bool { principal.hasAny(of: roles) }
}

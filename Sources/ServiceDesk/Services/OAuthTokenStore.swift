import Crypto
import Foundation
import SQLKit
import ServerSupport

/// Access and refresh tokens issued by `/oauth_token.do`, stored by SHA-256 digest only.
struct OAuthTokenStore {
    static let schema = "desk_oauth_tokens"

    enum Kind: String {
        case access
        case refresh
    }

    struct Grant {
        let entitySysId: String
        let userSysId: String
        let expiresAt: Date
    }

    let sql: any SQLDatabase
    let now: Date

    /// A new random token of `kind` for the user through the entity, living `lifespan` seconds.
    func issue(_ kind: Kind, entity: String, user: String, lifespan: Int) async throws -> String {
        let token = RandomToken.urlSafe(byteCount: 48)
        try await sql.insert(into: Self.schema)
            .columns("token_digest", "kind", "entity", "user_id", "expires_at")
            .values(
                SQLBind(RandomToken.digest(token)), SQLBind(kind.rawValue), SQLBind(entity), SQLBind(user),
                SQLBind(now.addingTimeInterval(TimeInterval(lifespan)).timeIntervalSince1970)
            )
            .run()
        return token
    }

    /// The unexpired grant behind `token`, if it is a token of `kind`.
    func find(_ token: String, kind: Kind) async throws -> Grant? {
        guard
            let row = try await sql.select()
                .columns("entity", "user_id", "expires_at")
                .from(Self.schema)
                .where("token_digest", .equal, RandomToken.digest(token))
                .where("kind", .equal, kind.rawValue)
                .first()
        else { return nil }
        let expiresAt = Date(timeIntervalSince1970: try row.decode(column: "expires_at", as: Double.self))
        guard expiresAt > now else { return nil }
        return Grant(
            entitySysId: try row.decode(column: "entity", as: String.self),
            userSysId: try row.decode(column: "user_id", as: String.self), expiresAt: expiresAt)
    }
}

/// An active inbound OAuth entity (`oauth_entity` of type `client`) and its lifespans.
struct InboundOAuthEntity {
    let sysId: String
    let accessTokenLifespan: Int
    let refreshTokenLifespan: Int

    /// The active `client` entity with this client ID whose secret matches; nil otherwise.
    static func authenticate(clientId: String, secret: String, sql: any SQLDatabase, masterKey: MasterKey)
        async throws -> InboundOAuthEntity?
    {
        guard
            let row = try await sql.select()
                .columns("*")
                .from(DeskTables.oauthEntity.databaseTable)
                .where("client_id", .equal, clientId)
                .where("type", .equal, "client")
                .first(),
            try row.decode(column: "active", as: Bool?.self) ?? false,
            let sealed = try row.decode(column: "client_secret", as: String?.self),
            let stored = try? masterKey.open(sealed),
            Data(SHA256.hash(data: Data(stored.utf8))) == Data(SHA256.hash(data: Data(secret.utf8)))
        else { return nil }
        return InboundOAuthEntity(
            sysId: try row.decode(column: "sys_id", as: String.self),
            accessTokenLifespan: try row.decode(column: "access_token_lifespan", as: Int?.self) ?? 1800,
            refreshTokenLifespan: try row.decode(column: "refresh_token_lifespan", as: Int?.self) ?? 8_640_000)
    }

    /// Whether the entity with this `sys_id` is still an active inbound client (deactivating revokes its tokens).
    static func isActive(_ sysId: String, sql: any SQLDatabase) async throws -> Bool {
        let row = try await sql.select().columns("active").from(DeskTables.oauthEntity.databaseTable)
            .where("sys_id", .equal, sysId).first()
        return try row?.decode(column: "active", as: Bool?.self) ?? false
    }
}

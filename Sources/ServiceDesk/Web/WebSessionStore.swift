import Foundation
import SQLKit
import ServerSupport

/// Server-side web sessions. The browser holds a random token; the database holds only its SHA-256 digest,
/// the user and the session's CSRF token, so a copy of the database opens no session.
struct WebSessionStore {
    static let schema = "desk_sessions"
    /// Signed-in time without a request before the session ends (ServiceNow's default: 30 minutes).
    static let idleTimeout: TimeInterval = 30 * 60
    /// Longest a session lives, however active.
    static let absoluteTimeout: TimeInterval = 12 * 60 * 60

    struct Session: Sendable {
        let userId: String
        let csrfToken: String
        /// The identity provider's account, when the user signed in with single sign-on.
        let externalAccount: String?
    }

    let sql: any SQLDatabase
    let now: Date

    /// Starts a session for `userId` (signed in through `externalAccount` of an identity provider, if given);
    /// returns the token for the cookie.
    func create(userId: String, externalAccount: String? = nil) async throws -> String {
        let token = RandomToken.urlSafe(byteCount: 32)
        let stamp = now.timeIntervalSince1970
        // Sessions past their absolute end are of no use to anyone; each sign-in sweeps them away.
        try await sql.delete(from: Self.schema).where("expires_at", .lessThan, stamp).run()
        try await sql.insert(into: Self.schema)
            .columns(
                "id_digest", "user_id", "csrf_token", "created_at", "last_seen_at", "expires_at", "external_account"
            )
            .values(
                SQLBind(Self.digest(token)), SQLBind(userId), SQLBind(RandomToken.urlSafe(byteCount: 32)),
                SQLBind(stamp), SQLBind(stamp), SQLBind(stamp + Self.absoluteTimeout), SQLBind(externalAccount)
            )
            .run()
        return token
    }

    /// The live session of `token`, noting the activity (at most once a minute, to spare the database).
    func find(_ token: String) async throws -> Session? {
        let digest = Self.digest(token)
        guard
            let row = try await sql.select()
                .columns("user_id", "csrf_token", "last_seen_at", "expires_at", "external_account")
                .from(Self.schema).where("id_digest", .equal, digest).first()
        else { return nil }
        let lastSeen = try row.decode(column: "last_seen_at", as: Double.self)
        let stamp = now.timeIntervalSince1970
        guard stamp < (try row.decode(column: "expires_at", as: Double.self)), stamp - lastSeen < Self.idleTimeout
        else {
            try await delete(token)
            return nil
        }
        if stamp - lastSeen > 60 {
            try await sql.update(Self.schema).set("last_seen_at", to: stamp).where("id_digest", .equal, digest).run()
        }
        return Session(
            userId: try row.decode(column: "user_id", as: String.self),
            csrfToken: try row.decode(column: "csrf_token", as: String.self),
            externalAccount: try row.decode(column: "external_account", as: String?.self))
    }

    func delete(_ token: String) async throws {
        try await sql.delete(from: Self.schema).where("id_digest", .equal, Self.digest(token)).run()
    }

    /// Ends every session of a user (deactivated, password changed) and any expired session.
    func deleteAll(userId: String) async throws {
        try await sql.delete(from: Self.schema).where("user_id", .equal, userId).run()
        try await sql.delete(from: Self.schema).where("expires_at", .lessThan, now.timeIntervalSince1970).run()
    }

    static func digest(_ token: String) -> String { RandomToken.digest(token) }
}

import Fluent
import Foundation
import SQLKit

/// Counts failed password checks per user name and per client address in the database, so every instance
/// sharing it agrees, and refuses further attempts once a limit is reached within the window. A locked-out
/// attempt is refused before any password hash is computed.
///
/// One throttle per service, over every way that service takes a password: the desk's web sign-in, HTTP
/// Basic on its APIs and `/oauth_token.do`'s password grant count together; Identity's sign-in page has its own.
package struct SignInThrottle: Sendable {
    package struct Limits: Sendable {
        package var window: TimeInterval
        package var perUser: Int
        package var perAddress: Int

        package init(window: TimeInterval = 15 * 60, perUser: Int = 5, perAddress: Int = 20) {
            self.window = window
            self.perUser = perUser
            self.perAddress = perAddress
        }

        package static let standard = Limits()
    }

    /// Failed attempts: who (`user:{name}` or `address:{ip}`) and when.
    package let table: String
    package let limits: Limits
    let sql: any SQLDatabase
    let now: Date

    package init(table: String, limits: Limits = .standard, sql: any SQLDatabase, now: Date) {
        self.table = table
        self.limits = limits
        self.sql = sql
        self.now = now
    }

    /// Creates the throttle's table (in a migration of the service that owns it).
    package static func createTable(_ table: String, on database: any Database) async throws {
        try await database.schema(table)
            .field("id", .string, .identifier(auto: false))
            .field("subject", .string, .required)
            .field("failed_at", .double, .required)
            .create()
    }

    /// The counted subjects of one attempt. User names count case-insensitively; a name longer than any real
    /// one is cut, so a huge name cannot bloat the table.
    package func subjects(userName: String, address: String?) -> [(subject: String, limit: Int)] {
        var subjects = [("user:" + String(userName.lowercased().prefix(256)), limits.perUser)]
        if let address { subjects.append(("address:" + String(address.prefix(64)), limits.perAddress)) }
        return subjects
    }

    /// Seconds until another attempt is allowed, or nil when it is allowed now.
    package func retryAfter(userName: String, address: String?) async throws -> TimeInterval? {
        let since = now.timeIntervalSince1970 - limits.window
        var wait: TimeInterval?
        for (subject, limit) in subjects(userName: userName, address: address) {
            let rows = try await sql.select().column("failed_at").from(table)
                .where("subject", .equal, subject).where("failed_at", .greaterThan, since)
                .orderBy("failed_at", .descending).limit(limit).all()
            guard rows.count >= limit, let oldest = try rows.last?.decode(column: "failed_at", as: Double.self)
            else { continue }
            wait = max(wait ?? 0, max(1, oldest + limits.window - now.timeIntervalSince1970))
        }
        return wait
    }

    package func recordFailure(userName: String, address: String?) async throws {
        let stamp = now.timeIntervalSince1970
        try await sql.delete(from: table).where("failed_at", .lessThan, stamp - limits.window).run()
        for (subject, _) in subjects(userName: userName, address: address) {
            try await sql.insert(into: table).columns("id", "subject", "failed_at")
                .values(SQLBind(RandomToken.urlSafe(byteCount: 16)), SQLBind(subject), SQLBind(stamp)).run()
        }
    }

    /// A good sign-in clears the user name's failures (not the address's: one good account must not unlock
    /// guessing at others).
    package func clear(userName: String) async throws {
        try await sql.delete(from: table).where(
            "subject", .equal, subjects(userName: userName, address: nil)[0].subject
        )
        .run()
    }

    /// `wait` as people read it: "1 minute", "15 minutes".
    package static func minutesText(_ wait: TimeInterval) -> String {
        let minutes = max(1, Int(min(wait, 86_400) / 60 + 0.999))
        return "\(minutes) minute\(minutes == 1 ? "" : "s")"
    }

    /// `wait` for a `Retry-After` header: whole seconds, at least 1.
    package static func retryAfterHeader(_ wait: TimeInterval) -> String {
        String(Int(min(max(wait, 1), 86_400).rounded(.up)))
    }
}

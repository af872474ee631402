import Foundation
import SQLKit
import ServiceDesk

/// The Microsoft 365 account a desk user opens cases with (Microsoft 365 support → Link account), with the
/// Connector's last verdict on whether it is an administrator of the tenant.
struct LinkedAccount: Sendable, Equatable {
    let email: String
    let isAdministrator: Bool?
    let roles: [String]
    let checkedAt: Date?
}

/// The app's `x_mioms_m365_assis_account` table, one row per desk user.
struct LinkedAccounts: Sendable {
    static let table = "x_mioms_m365_assis_account"

    let sql: any SQLDatabase

    func find(user: String) async throws -> LinkedAccount? {
        guard let row = try await sql.select().column("*").from(Self.table).where("user", .equal, user).first()
        else { return nil }
        return LinkedAccount(
            email: try row.decode(column: "email", as: String.self),
            isAdministrator: try row.decode(column: "is_admin", as: Bool?.self),
            roles: (try row.decode(column: "roles", as: String?.self) ?? "").split(separator: "\n").map(String.init),
            checkedAt: try row.decode(column: "checked_at", as: Double?.self).map(Date.init(timeIntervalSince1970:)))
    }

    func save(user: String, _ account: LinkedAccount, at now: Date) async throws {
        try await sql.insert(into: Self.table)
            .columns("user", "email", "is_admin", "roles", "checked_at", "updated_at")
            .values(
                SQLBind(user), SQLBind(account.email), SQLBind(account.isAdministrator),
                SQLBind(account.roles.joined(separator: "\n")), SQLBind(account.checkedAt?.timeIntervalSince1970),
                SQLBind(now.timeIntervalSince1970)
            )
            .onConflict(with: ["user"]) { conflict in
                conflict.set(excludedValueOf: "email").set(excludedValueOf: "is_admin").set(excludedValueOf: "roles")
                    .set(excludedValueOf: "checked_at").set(excludedValueOf: "updated_at")
            }
            .run()
    }

    func remove(user: String) async throws {
        try await sql.delete(from: Self.table).where("user", .equal, user).run()
    }
}

/// E-mail addresses as the app takes them: one `@`, a dot in the domain, no spaces, at most 254 characters.
enum EmailAddress {
    static func isValid(_ text: String) -> Bool {
        text.count <= 254 && text.wholeMatch(of: /[^@\s]+@[^@\s]+\.[^@\s]+/) != nil
    }
}

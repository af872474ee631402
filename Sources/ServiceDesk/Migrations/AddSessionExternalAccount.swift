import Fluent

/// `external_account` on web sessions: the account of the identity provider a user signed in with (single
/// sign-on), which apps may use — the Microsoft 365 support app names it as a case's default contact.
struct AddSessionExternalAccount: AsyncMigration {
    func prepare(on database: any Database) async throws {
        try await database.schema("desk_sessions").field("external_account", .string).update()
    }

    func revert(on database: any Database) async throws {
        try await database.schema("desk_sessions").deleteField("external_account").update()
    }
}

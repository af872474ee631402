import Fluent

/// Failed sign-ins at the authorize endpoint, counted by the sign-in throttle (shared by every instance).
struct CreateSignInFailures: AsyncMigration {
    static let table = "identity_signin_failures"

    func prepare(on database: any Database) async throws {
        try await database.schema(Self.table)
            .field("id", .string, .identifier(auto: false))
            .field("subject", .string, .required)
            .field("failed_at", .double, .required)
            .create()
    }

    func revert(on database: any Database) async throws {
        try await database.schema(Self.table).delete()
    }
}

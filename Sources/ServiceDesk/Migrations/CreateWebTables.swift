import Fluent

/// Web sign-in: sessions (in the database, so every instance behind a load balancer shares them) and the
/// failed sign-ins the throttle counts.
struct CreateWebTables: AsyncMigration {
    func prepare(on database: any Database) async throws {
        try await database.schema("desk_sessions")
            .field("id_digest", .string, .identifier(auto: false))
            .field("user_id", .string, .required)
            .field("csrf_token", .string, .required)
            .field("created_at", .double, .required)
            .field("last_seen_at", .double, .required)
            .field("expires_at", .double, .required)
            .create()
        try await database.schema("desk_signin_failures")
            .field("id", .string, .identifier(auto: false))
            .field("subject", .string, .required)
            .field("failed_at", .double, .required)
            .create()
    }

    func revert(on database: any Database) async throws {
        try await database.schema("desk_signin_failures").delete()
        try await database.schema("desk_sessions").delete()
    }
}

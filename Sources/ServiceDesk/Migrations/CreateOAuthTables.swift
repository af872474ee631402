import Fluent

/// The Application Registry (`oauth_entity`) and the tokens `/oauth_token.do` issues.
struct CreateOAuthTables: AsyncMigration {
    func prepare(on database: any Database) async throws {
        try await database.schema("desk_oauth_entity")
            .field("sys_id", .string, .identifier(auto: false))
            .field("sys_created_on", .string)
            .field("sys_created_by", .string)
            .field("sys_updated_on", .string)
            .field("sys_updated_by", .string)
            .field("name", .string)
            .field("type", .string)
            .field("client_id", .string)
            .field("client_secret", .string)
            .field("access_token_lifespan", .int)
            .field("refresh_token_lifespan", .int)
            .field("active", .bool)
            .field("redirect_url", .string)
            .field("token_url", .string)
            .field("default_grant_type", .string)
            .unique(on: "client_id", name: "desk_oauth_entity_unique")
            .create()
        try await database.schema("desk_oauth_tokens")
            .field("token_digest", .string, .identifier(auto: false))
            .field("kind", .string, .required)
            .field("entity", .string, .required)
            .field("user_id", .string, .required)
            .field("expires_at", .double, .required)
            .create()
    }

    func revert(on database: any Database) async throws {
        try await database.schema("desk_oauth_tokens").delete()
        try await database.schema("desk_oauth_entity").delete()
    }
}

import Fluent

struct CreateAuthorizationGrant: AsyncMigration {
    func prepare(on database: any Database) async throws {
        try await database.schema(AuthorizationCode.schema)
            .id()
            .field("code_digest", .string, .required)
            .field("app_id", .uuid, .required, .references(AppRegistration.schema, .id, onDelete: .cascade))
            .field("user_id", .uuid, .required, .references(DirectoryUser.schema, .id, onDelete: .cascade))
            .field("redirect_uri", .string, .required)
            .field("scope", .string, .required)
            .field("resource", .string)
            .field("nonce", .string)
            .field("code_challenge", .string)
            .field("code_challenge_method", .string)
            .field("expires_at", .datetime, .required)
            .field("redeemed_at", .datetime)
            .unique(on: "code_digest")
            .create()
        try await database.schema(RefreshToken.schema)
            .id()
            .field("token_digest", .string, .required)
            .field("app_id", .uuid, .required, .references(AppRegistration.schema, .id, onDelete: .cascade))
            .field("user_id", .uuid, .required, .references(DirectoryUser.schema, .id, onDelete: .cascade))
            .field("scope", .string, .required)
            .field("resource", .string)
            .field("expires_at", .datetime, .required)
            .field("revoked_at", .datetime)
            .unique(on: "token_digest")
            .create()
    }

    func revert(on database: any Database) async throws {
        try await database.schema(RefreshToken.schema).delete()
        try await database.schema(AuthorizationCode.schema).delete()
    }
}

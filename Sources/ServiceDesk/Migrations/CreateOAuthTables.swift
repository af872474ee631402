import Fluent

/// The Application Registry (`oauth_entity`) and the tokens `/oauth_token.do` issues.
struct CreateOAuthTables: AsyncMigration {
    func prepare(on database: any Database) async throws {
        // The columns this migration shipped with; later migrations add the rest.
        try await CreateDeskTables.create(
            DeskTables.oauthEntity.excluding(CreatePlatformTables.addedEntityColumns), on: database)
        try await database.schema(OAuthTokenStore.schema)
            .field("token_digest", .string, .identifier(auto: false))
            .field("kind", .string, .required)
            .field("entity", .string, .required)
            .field("user_id", .string, .required)
            .field("expires_at", .double, .required)
            .create()
    }

    func revert(on database: any Database) async throws {
        try await database.schema(OAuthTokenStore.schema).delete()
        try await database.schema(DeskTables.oauthEntity.databaseTable).delete()
    }
}

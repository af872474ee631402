import Fluent

/// Entra's permission model: what apps expose and require, and consent grants for delegated permissions.
struct AddDelegatedPermissions: AsyncMigration {
    func prepare(on database: any Database) async throws {
        // One column per statement: SQLite adds a single column per ALTER TABLE.
        try await database.schema(AppRegistration.schema).field("exposed_scopes", .string).update()
        try await database.schema(AppRegistration.schema).field("required_resource_access", .string).update()
        try await database.schema(DelegatedPermissionGrant.schema)
            .id()
            .field("client_app_id", .uuid, .required, .references(AppRegistration.schema, .id, onDelete: .cascade))
            .field("resource_app_id", .uuid, .required, .references(AppRegistration.schema, .id, onDelete: .cascade))
            .field("consent_type", .string, .required)
            .field("principal_id", .uuid, .references(DirectoryUser.schema, .id, onDelete: .cascade))
            .field("scope", .string, .required)
            .field("created_at", .datetime)
            .create()
    }

    func revert(on database: any Database) async throws {
        try await database.schema(DelegatedPermissionGrant.schema).delete()
        try await database.schema(AppRegistration.schema).deleteField("required_resource_access").update()
        try await database.schema(AppRegistration.schema).deleteField("exposed_scopes").update()
    }
}

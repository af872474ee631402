import Fluent

struct CreateAppRegistration: AsyncMigration {
    func prepare(on database: any Database) async throws {
        try await database.schema(AppRegistration.schema)
            .field(.id, .uuid, .identifier(auto: false))
            .field("tenant_id", .uuid, .required, .references(Tenant.schema, .id, onDelete: .cascade))
            .field("app_id", .string, .required)
            .field("service_principal_id", .uuid, .required)
            .field("display_name", .string, .required)
            .field("redirect_uris", .array(of: .string), .required)
            .field("identifier_uris", .array(of: .string), .required)
            .field("app_roles", .array(of: .string), .required)
            .field("access_token_version", .int, .required)
            .field("app_role_assignment_required", .bool, .required)
            .field("created_at", .datetime)
            .unique(on: "tenant_id", "app_id")
            .create()
        try await database.schema(ClientSecret.schema)
            .field(.id, .uuid, .identifier(auto: false))
            .field("app_id", .uuid, .required, .references(AppRegistration.schema, .id, onDelete: .cascade))
            .field("display_name", .string, .required)
            .field("hint", .string, .required)
            .field("secret_digest", .string, .required)
            .field("expires_at", .datetime, .required)
            .field("created_at", .datetime)
            .create()
        try await database.schema(AppRoleGrant.schema)
            .id()
            .field("client_app_id", .uuid, .required, .references(AppRegistration.schema, .id, onDelete: .cascade))
            .field("resource_app_id", .uuid, .required, .references(AppRegistration.schema, .id, onDelete: .cascade))
            .field("role", .string, .required)
            .unique(on: "client_app_id", "resource_app_id", "role")
            .create()
    }

    func revert(on database: any Database) async throws {
        try await database.schema(AppRoleGrant.schema).delete()
        try await database.schema(ClientSecret.schema).delete()
        try await database.schema(AppRegistration.schema).delete()
    }
}

import Fluent

struct CreateDirectoryUser: AsyncMigration {
    func prepare(on database: any Database) async throws {
        try await database.schema(DirectoryUser.schema)
            .field(.id, .uuid, .identifier(auto: false))
            .field("tenant_id", .uuid, .required, .references(Tenant.schema, .id, onDelete: .cascade))
            .field("user_principal_name", .string, .required)
            .field("display_name", .string, .required)
            .field("mail", .string)
            .field("password_hash", .string, .required)
            .field("account_enabled", .bool, .required)
            .field("created_at", .datetime)
            .unique(on: "tenant_id", "user_principal_name")
            .create()
        try await database.schema(DirectoryRoleAssignment.schema)
            .id()
            .field("user_id", .uuid, .required, .references(DirectoryUser.schema, .id, onDelete: .cascade))
            .field("role_template_id", .string, .required)
            .unique(on: "user_id", "role_template_id")
            .create()
    }

    func revert(on database: any Database) async throws {
        try await database.schema(DirectoryRoleAssignment.schema).delete()
        try await database.schema(DirectoryUser.schema).delete()
    }
}

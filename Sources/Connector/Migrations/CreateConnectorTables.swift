import Fluent

/// The Connector's first schema. Every row belongs to a tenant (`tenant_id`, the directory's tenant GUID in
/// lowercase); times are seconds since 1970; secrets are sealed with the master key.
struct CreateConnectorTables: AsyncMigration {
    func prepare(on database: any Database) async throws {
        try await database.schema("connector_tenants")
            .field("tenant_id", .string, .identifier(auto: false))
            .field("display_name", .string, .required)
            // Lowercase domain names, comma-separated.
            .field("domains", .string, .required)
            .field("resource_app_id", .string)
            .field("created_at", .double, .required)
            .create()
        try await database.schema("connector_profiles")
            .field("tenant_id", .string, .identifier(auto: false))
            .field("support_tool", .string, .required)
            .field("app_id", .string)
            .field("graph_client_id", .string)
            .field("graph_client_secret", .string)
            .field("graph_secret_changed_at", .double)
            .field("updated_at", .double, .required)
            .field("updated_by", .string)
            .create()
        try await database.schema("connector_repositories")
            .field("tenant_id", .string, .required)
            .field("repository_id", .string, .required)
            .field("endpoint", .string, .required)
            .field("authentication_type", .string, .required)
            .field("client_id", .string)
            .field("client_secret", .string)
            .field("client_secret_changed_at", .double)
            .field("refresh_token_expiration", .int, .required)
            .field("rest_user_name", .string)
            .field("rest_user_password", .string)
            .field("rest_user_password_changed_at", .double)
            .field("created_at", .double, .required)
            .field("updated_at", .double, .required)
            .unique(on: "tenant_id", "repository_id")
            .create()
        try await database.schema("connector_health_services")
            .field("tenant_id", .string, .required)
            .field("service_id", .string, .required)
            .field("service", .string, .required)
            .field("status", .string, .required)
            .field("updated_at", .double, .required)
            .unique(on: "tenant_id", "service_id")
            .create()
        try await database.schema("connector_health_issues")
            .field("tenant_id", .string, .required)
            .field("issue_id", .string, .required)
            .field("title", .string, .required)
            .field("service", .string, .required)
            .field("feature", .string)
            .field("feature_group", .string)
            .field("impact_description", .string)
            .field("classification", .string, .required)
            .field("origin", .string, .required)
            .field("status", .string, .required)
            .field("is_resolved", .bool, .required)
            .field("start_at", .double)
            .field("end_at", .double)
            .field("last_modified_at", .double, .required)
            // Graph's `details` and `posts`, as JSON in Graph's shape.
            .field("details", .string, .required)
            .field("posts", .string, .required)
            // `local` (published by the support team) or `graph` (synced from Microsoft Graph).
            .field("source", .string, .required)
            .unique(on: "tenant_id", "issue_id")
            .create()
        try await database.schema("connector_health_sync")
            .field("tenant_id", .string, .identifier(auto: false))
            // The newest `lastModifiedDateTime` of a completed sync: the next one asks for what changed since.
            .field("cursor", .double)
            .field("last_synced_at", .double)
            .field("last_attempt_at", .double)
            .field("last_error", .string)
            // After a 429 or a failure, no attempt before this time.
            .field("not_before", .double)
            .field("failures", .int, .required)
            .create()
        try await database.schema("connector_job_schedules")
            .field("name", .string, .identifier(auto: false))
            .field("next_run_at", .double, .required)
            .field("locked_by", .string)
            .create()
        try await database.schema("connector_jobs")
            .field("id", .string, .identifier(auto: false))
            .field("kind", .string, .required)
            .field("payload", .string, .required)
            .field("run_at", .double, .required)
            .field("attempts", .int, .required)
            .field("status", .string, .required)
            .field("locked_by", .string)
            .field("locked_until", .double)
            .field("last_error", .string)
            .field("created_at", .double, .required)
            .create()
    }

    func revert(on database: any Database) async throws {
        for table in [
            "connector_jobs", "connector_job_schedules", "connector_health_sync", "connector_health_issues",
            "connector_health_services", "connector_repositories", "connector_profiles", "connector_tenants",
        ] {
            try await database.schema(table).delete()
        }
    }
}

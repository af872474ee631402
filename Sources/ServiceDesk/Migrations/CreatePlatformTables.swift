import Fluent
import Foundation
import SQLKit

/// OIDC provider configurations, OAuth profiles, the outbound token cache, both logs and cross-scope
/// privileges (with the app's installed default: it may read `oauth_entity`).
struct CreatePlatformTables: AsyncMigration {
    static let addedEntityColumns = ["resource", "scope", "oidc_provider_configuration"]

    func prepare(on database: any Database) async throws {
        // One column per statement: SQLite adds a single column per ALTER TABLE.
        for column in Self.addedEntityColumns {
            try await database.schema("desk_oauth_entity").field(FieldKey(stringLiteral: column), .string).update()
        }
        try await database.schema("desk_oidc_provider_configuration")
            .field("sys_id", .string, .identifier(auto: false))
            .field("sys_created_on", .string)
            .field("sys_created_by", .string)
            .field("sys_updated_on", .string)
            .field("sys_updated_by", .string)
            .field("oidc_provider", .string)
            .field("oidc_metadata_url", .string)
            .field("oidc_config_cache_life_span", .int)
            .field("user_claim", .string)
            .field("user_field", .string)
            .create()
        try await database.schema("desk_oauth_entity_profile")
            .field("sys_id", .string, .identifier(auto: false))
            .field("sys_created_on", .string)
            .field("sys_created_by", .string)
            .field("sys_updated_on", .string)
            .field("sys_updated_by", .string)
            .field("name", .string)
            .field("oauth_entity", .string)
            .field("grant_type", .string)
            .field("is_default", .bool)
            .create()
        try await database.schema("desk_syslog")
            .field("sys_id", .string, .identifier(auto: false))
            .field("sys_created_on", .string)
            .field("sys_created_by", .string)
            .field("sys_updated_on", .string)
            .field("sys_updated_by", .string)
            .field("level", .int)
            .field("source", .string)
            .field("message", .string)
            .field("correlation_id", .string)
            .create()
        try await database.schema("desk_sys_outbound_http_log")
            .field("sys_id", .string, .identifier(auto: false))
            .field("sys_created_on", .string)
            .field("sys_created_by", .string)
            .field("sys_updated_on", .string)
            .field("sys_updated_by", .string)
            .field("http_method", .string)
            .field("hostname", .string)
            .field("path", .string)
            .field("response_status", .int)
            .field("url", .string)
            .field("response_time", .int)
            .field("request_size", .int)
            .field("response_size", .int)
            .field("request_headers", .string)
            .field("correlation_id", .string)
            .field("error_message", .string)
            .field("source", .string)
            .create()
        try await database.schema("desk_sys_scope_privilege")
            .field("sys_id", .string, .identifier(auto: false))
            .field("sys_created_on", .string)
            .field("sys_created_by", .string)
            .field("sys_updated_on", .string)
            .field("sys_updated_by", .string)
            .field("source_scope", .string)
            .field("target_scope", .string)
            .field("target_name", .string)
            .field("target_type", .string)
            .field("operation", .string)
            .field("status", .string)
            .create()
        try await database.schema("desk_outbound_tokens")
            .field("profile_id", .string, .identifier(auto: false))
            .field("sealed_token", .string, .required)
            .field("expires_at", .double, .required)
            .create()
        guard let sql = database as? any SQLDatabase else { return }
        // The Microsoft 365 support app's installed privileges: it reads the Application Registry.
        let stamp = DeskTime.format(Date())
        for table in ["oauth_entity", "oauth_entity_profile"] {
            try await sql.insert(into: "desk_sys_scope_privilege")
                .columns(
                    "sys_id", "sys_created_on", "sys_created_by", "sys_updated_on", "sys_updated_by", "source_scope",
                    "target_scope", "target_name", "target_type", "operation", "status"
                )
                .values(
                    SQLBind(TableWrite.newSysId()), SQLBind(stamp), SQLBind("system"), SQLBind(stamp),
                    SQLBind("system"), SQLBind("x_mioms_m365_assis"), SQLBind("global"), SQLBind(table),
                    SQLBind("sys_db_object"), SQLBind("read"), SQLBind("allowed")
                )
                .run()
        }
    }

    func revert(on database: any Database) async throws {
        for table in [
            "desk_outbound_tokens", "desk_sys_scope_privilege", "desk_sys_outbound_http_log", "desk_syslog",
            "desk_oauth_entity_profile", "desk_oidc_provider_configuration",
        ] {
            try await database.schema(table).delete()
        }
        for column in Self.addedEntityColumns.reversed() {
            try await database.schema("desk_oauth_entity").deleteField(FieldKey(stringLiteral: column)).update()
        }
    }
}

import Fluent
import SQLKit

/// The desk's first tables: users, roles, role assignments and incidents, as they shipped. Like every migration,
/// it states its schema literally: later changes are later migrations, never edits here.
struct CreateDeskTables: AsyncMigration {
    func prepare(on database: any Database) async throws {
        try await database.schema("desk_sys_user")
            .field("sys_id", .string, .identifier(auto: false))
            .field("sys_created_on", .string)
            .field("sys_created_by", .string)
            .field("sys_updated_on", .string)
            .field("sys_updated_by", .string)
            .field("user_name", .string)
            .field("first_name", .string)
            .field("last_name", .string)
            .field("name", .string)
            .field("email", .string)
            .field("user_password", .string)
            .field("active", .bool)
            .field("web_service_access_only", .bool)
            .unique(on: "user_name", name: "desk_sys_user_unique")
            .create()
        try await database.schema("desk_sys_user_role")
            .field("sys_id", .string, .identifier(auto: false))
            .field("sys_created_on", .string)
            .field("sys_created_by", .string)
            .field("sys_updated_on", .string)
            .field("sys_updated_by", .string)
            .field("name", .string)
            .field("description", .string)
            .field("contains_roles", .string)
            .unique(on: "name", name: "desk_sys_user_role_unique")
            .create()
        try await database.schema("desk_sys_user_has_role")
            .field("sys_id", .string, .identifier(auto: false))
            .field("sys_created_on", .string)
            .field("sys_created_by", .string)
            .field("sys_updated_on", .string)
            .field("sys_updated_by", .string)
            .field("user", .string)
            .field("role", .string)
            .unique(on: "user", "role", name: "desk_sys_user_has_role_unique")
            .create()
        try await database.schema("desk_incident")
            .field("sys_id", .string, .identifier(auto: false))
            .field("sys_created_on", .string)
            .field("sys_created_by", .string)
            .field("sys_updated_on", .string)
            .field("sys_updated_by", .string)
            .field("number", .string)
            .field("short_description", .string)
            .field("description", .string)
            .field("caller_id", .string)
            .field("category", .string)
            .field("impact", .int)
            .field("urgency", .int)
            .field("priority", .int)
            .field("state", .int)
            .field("assigned_to", .string)
            .field("opened_at", .string)
            .field("resolved_at", .string)
            .field("closed_at", .string)
            .field("close_code", .string)
            .field("close_notes", .string)
            .unique(on: "number", name: "desk_incident_unique")
            .create()
        try await database.schema("desk_number_counters")
            .field("table_name", .string, .identifier(auto: false))
            .field("last", .int, .required)
            .create()
        guard let sql = database as? any SQLDatabase else { return }
        try await sql.insert(into: "desk_number_counters")
            .columns("table_name", "last")
            .values(SQLBind("incident"), SQLBind(10000))
            .run()
    }

    func revert(on database: any Database) async throws {
        try await database.schema("desk_number_counters").delete()
        for table in ["desk_incident", "desk_sys_user_has_role", "desk_sys_user_role", "desk_sys_user"] {
            try await database.schema(table).delete()
        }
    }
}

/// The last number given per table (`INC0010001` …).
enum NumberCounter {
    static let schema = "desk_number_counters"
}

import Fluent
import Foundation
import SQLKit
import ServiceDesk

/// The app's own tables: its settings (one row, what the setup wizard records) and the insights kept with
/// incidents. History: a shipped migration is never edited.
struct CreateAppTables: AsyncMigration {
    var name: String { "x_mioms_m365_assis.CreateAppTables" }

    func prepare(on database: any Database) async throws {
        try await database.schema("x_mioms_m365_assis_setting")
            .field("id", .string, .identifier(auto: false))
            .field("consent_at", .double)
            .field("consent_by", .string)
            .field("outbound_profile", .string)
            .field("connector_url", .string)
            .field("inbound_choice", .string)
            .field("inbound_entity", .string)
            .field("integration_user", .string)
            .field("rest_user_app", .string)
            .field("repository_id", .string)
            .field("sso_enabled", .bool)
            .field("admin_email", .string)
            .field("test_environment", .bool)
            .field("completed_at", .double)
            .field("tenant_id", .string)
            .field("capabilities", .string)
            .field("updated_at", .double)
            .field("updated_by", .string)
            .create()
        try await database.schema("x_mioms_m365_assis_insight")
            .field("id", .string, .identifier(auto: false))
            .field("incident", .string, .required)
            .field("kind", .string, .required)
            .field("item_id", .string, .required)
            .field("title", .string, .required)
            .field("detail", .string)
            .field("url", .string)
            .field("snippet", .string)
            .field("opened", .bool, .required)
            .field("helpful", .bool, .required)
            .field("saved_by", .string)
            .field("created_at", .double, .required)
            .field("updated_at", .double, .required)
            .unique(on: "incident", "kind", "item_id")
            .create()
        guard let sql = database as? any SQLDatabase else { return }
        try await sql.create(index: "x_mioms_m365_assis_insight_incident").on("x_mioms_m365_assis_insight")
            .column("incident").run()
        // The app's installed cross-scope privileges on the desk's incidents (the Application Registry ones come
        // with the platform); an admin may set any of them to denied on the cross-scope privileges page.
        let stamp = DeskTime.format(Date())
        for operation in ["read", "write"] {
            try await sql.insert(into: "desk_sys_scope_privilege")
                .columns(
                    "sys_id", "sys_created_on", "sys_created_by", "sys_updated_on", "sys_updated_by", "source_scope",
                    "target_scope", "target_name", "target_type", "operation", "status"
                )
                .values(
                    SQLBind(TableWrite.newSysId()),
                    SQLBind(stamp), SQLBind("system"), SQLBind(stamp), SQLBind("system"),
                    SQLBind("x_mioms_m365_assis"), SQLBind("global"), SQLBind("incident"), SQLBind("sys_db_object"),
                    SQLBind(operation), SQLBind("allowed")
                )
                .run()
        }
    }

    func revert(on database: any Database) async throws {
        try await database.schema("x_mioms_m365_assis_insight").delete()
        try await database.schema("x_mioms_m365_assis_setting").delete()
        guard let sql = database as? any SQLDatabase else { return }
        try await sql.delete(from: "desk_sys_scope_privilege").where("source_scope", .equal, "x_mioms_m365_assis")
            .where("target_name", .equal, "incident").run()
    }

}

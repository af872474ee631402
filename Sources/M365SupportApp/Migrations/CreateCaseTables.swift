import Fluent
import Foundation
import SQLKit
import ServiceDesk

/// Microsoft support cases kept with incidents, their threads (one row per update: its ID is the event ID that
/// delivered it, so an event is applied once), linked Microsoft 365 accounts, the inbound IP allow-list
/// setting, and the cross-scope privileges cases need.
struct CreateCaseTables: AsyncMigration {
    var name: String { "x_mioms_m365_assis.CreateCaseTables" }

    /// What the app may do with the desk's tables for cases: read users (integration user, linked accounts),
    /// create the aad integration user and give it a role, read OIDC configurations.
    static let privileges: [(table: String, operation: String)] = [
        ("sys_user", "read"), ("sys_user", "create"), ("sys_user_has_role", "create"),
        ("oidc_provider_configuration", "read"),
    ]

    func prepare(on database: any Database) async throws {
        // One column per statement: SQLite adds one at a time.
        try await database.schema("x_mioms_m365_assis_setting").field("ip_allow_list_enabled", .bool).update()
        try await database.schema("x_mioms_m365_assis_setting").field("ip_allow_list", .string).update()
        try await database.schema("x_mioms_m365_assis_case")
            .field("id", .string, .identifier(auto: false))
            .field("number", .string, .required)
            .field("incident", .string, .required)
            .field("ticket_number", .string, .required)
            .field("tenant_id", .string)
            .field("repository_id", .string)
            .field("title", .string, .required)
            .field("severity", .string, .required)
            .field("status", .string, .required)
            .field("contact_email", .string, .required)
            .field("test_environment", .bool, .required)
            .field("opened_by", .string)
            .field("last_sequence", .int, .required)
            .field("created_at", .double, .required)
            .field("updated_at", .double, .required)
            .unique(on: "number")
            .create()
        try await database.schema("x_mioms_m365_assis_case_update")
            .field("id", .string, .identifier(auto: false))
            .field("case_number", .string, .required)
            .field("sequence", .int, .required)
            .field("source", .string, .required)
            .field("author", .string, .required)
            .field("text", .string, .required)
            .field("status", .string)
            .field("created_at", .double, .required)
            .field("received_at", .double, .required)
            .create()
        try await database.schema("x_mioms_m365_assis_account")
            .field("user", .string, .identifier(auto: false))
            .field("email", .string, .required)
            .field("is_admin", .bool)
            .field("roles", .string)
            .field("checked_at", .double)
            .field("updated_at", .double, .required)
            .create()
        guard let sql = database as? any SQLDatabase else { return }
        try await sql.create(index: "x_mioms_m365_assis_case_incident").on("x_mioms_m365_assis_case")
            .column("incident").run()
        try await sql.create(index: "x_mioms_m365_assis_case_update_case").on("x_mioms_m365_assis_case_update")
            .column("case_number").column("sequence").run()
        let stamp = DeskTime.format(Date())
        for (table, operation) in Self.privileges {
            try await sql.insert(into: "desk_sys_scope_privilege")
                .columns(
                    "sys_id", "sys_created_on", "sys_created_by", "sys_updated_on", "sys_updated_by", "source_scope",
                    "target_scope", "target_name", "target_type", "operation", "status"
                )
                .values(
                    SQLBind(TableWrite.newSysId()),
                    SQLBind(stamp), SQLBind("system"), SQLBind(stamp), SQLBind("system"),
                    SQLBind("x_mioms_m365_assis"), SQLBind("global"), SQLBind(table), SQLBind("sys_db_object"),
                    SQLBind(operation), SQLBind("allowed")
                )
                .run()
        }
    }

    func revert(on database: any Database) async throws {
        try await database.schema("x_mioms_m365_assis_account").delete()
        try await database.schema("x_mioms_m365_assis_case_update").delete()
        try await database.schema("x_mioms_m365_assis_case").delete()
        try await database.schema("x_mioms_m365_assis_setting").deleteField("ip_allow_list").update()
        try await database.schema("x_mioms_m365_assis_setting").deleteField("ip_allow_list_enabled").update()
        guard let sql = database as? any SQLDatabase else { return }
        for (table, operation) in Self.privileges {
            try await sql.delete(from: "desk_sys_scope_privilege").where("source_scope", .equal, "x_mioms_m365_assis")
                .where("target_name", .equal, table).where("operation", .equal, operation).run()
        }
    }
}

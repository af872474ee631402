import Fluent
import SQLKit

/// Indexes for what the Table API, the list pages, the incident form and the app query most, so a desk of
/// 100,000 incidents and 10,000 users answers from indexes: the default lists (active incidents by last update),
/// filters by state, priority, caller and assignee, date ranges, and the lookups by reference (users by name and
/// e-mail, role assignments by user, journal entries by record).
struct AddDeskIndexes: AsyncMigration {
    static let indexes: [(name: String, table: String, columns: [String])] = [
        ("desk_incident_active_updated", "desk_incident", ["active", "sys_updated_on", "sys_id"]),
        ("desk_incident_updated", "desk_incident", ["sys_updated_on", "sys_id"]),
        ("desk_incident_created", "desk_incident", ["sys_created_on", "sys_id"]),
        ("desk_incident_state", "desk_incident", ["state", "sys_updated_on", "sys_id"]),
        ("desk_incident_priority", "desk_incident", ["priority", "sys_updated_on", "sys_id"]),
        ("desk_incident_caller", "desk_incident", ["caller_id", "sys_updated_on", "sys_id"]),
        ("desk_incident_assignee", "desk_incident", ["assigned_to", "sys_updated_on", "sys_id"]),
        ("desk_incident_opened", "desk_incident", ["opened_at", "sys_id"]),
        ("desk_sys_user_name", "desk_sys_user", ["name", "sys_id"]),
        ("desk_sys_user_email", "desk_sys_user", ["email"]),
        ("desk_sys_user_has_role_user", "desk_sys_user_has_role", ["user"]),
        ("desk_sys_journal_field_record", "desk_sys_journal_field", ["element_id", "sys_created_on", "sys_id"]),
    ]

    func prepare(on database: any Database) async throws {
        guard let sql = database as? any SQLDatabase else { return }
        for index in Self.indexes {
            var builder = sql.create(index: index.name).on(index.table)
            for column in index.columns { builder = builder.column(column) }
            try await builder.run()
        }
    }

    func revert(on database: any Database) async throws {
        guard let sql = database as? any SQLDatabase else { return }
        for index in Self.indexes.reversed() {
            try await sql.drop(index: index.name).run()
        }
    }
}

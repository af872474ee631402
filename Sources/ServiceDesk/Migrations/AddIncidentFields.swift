import Fluent
import SQLKit

/// Incident fields ServiceNow clients commonly read and query: `active` (filled from the state for existing
/// incidents), who opened, resolved and closed it, subcategory, contact type and hold reason.
struct AddIncidentFields: AsyncMigration {
    static let columns: [(String, DatabaseSchema.DataType)] = [
        ("active", .bool), ("opened_by", .string), ("resolved_by", .string), ("closed_by", .string),
        ("subcategory", .string), ("contact_type", .string), ("hold_reason", .int),
    ]

    func prepare(on database: any Database) async throws {
        // One column per statement: SQLite adds a single column per ALTER TABLE.
        for (name, type) in Self.columns {
            try await database.schema("desk_incident").field(FieldKey(stringLiteral: name), type)
                .update()
        }
        guard let sql = database as? any SQLDatabase else { return }
        try await sql.update("desk_incident")
            .set("active", to: true).where("state", .in, Array(TableRules.activeStates)).run()
        try await sql.update("desk_incident")
            .set("active", to: false).where("state", .notIn, Array(TableRules.activeStates)).run()
    }

    func revert(on database: any Database) async throws {
        for (name, _) in Self.columns.reversed() {
            try await database.schema("desk_incident").deleteField(FieldKey(stringLiteral: name))
                .update()
        }
    }
}

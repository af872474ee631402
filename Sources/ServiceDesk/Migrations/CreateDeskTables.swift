import Fluent
import SQLKit

/// Creates the Table API's tables from their schemas, with the uniqueness ServiceNow enforces.
struct CreateDeskTables: AsyncMigration {
    static let unique: [String: [String]] = [
        "oauth_entity": ["client_id"],
        "sys_user": ["user_name"],
        "sys_user_role": ["name"],
        "sys_user_has_role": ["user", "role"],
        "incident": ["number"],
    ]

    static let tables = [DeskTables.user, DeskTables.role, DeskTables.userRole, DeskTables.incident]

    func prepare(on database: any Database) async throws {
        for table in Self.tables {
            // The columns this migration shipped with; later migrations add the rest.
            let shipped = table.name == DeskTables.incident.name ? table.excluding(AddIncidentFields.added) : table
            try await Self.create(shipped, on: database)
        }
        try await database.schema(NumberCounter.schema)
            .field("table_name", .string, .identifier(auto: false))
            .field("last", .int, .required)
            .create()
        guard let sql = database as? any SQLDatabase else { return }
        try await sql.insert(into: NumberCounter.schema)
            .columns("table_name", "last")
            .values(SQLBind(DeskTables.incident.name), SQLBind(10000))
            .run()
    }

    /// Creates `table` from its schema, with its unique keys.
    static func create(_ table: TableSchema, on database: any Database) async throws {
        var builder = database.schema(table.databaseTable)
        for column in table.storedColumns {
            let key = FieldKey(stringLiteral: column.name)
            if column.name == "sys_id" {
                builder = builder.field(key, .string, .identifier(auto: false))
                continue
            }
            let type: DatabaseSchema.DataType =
                switch column.type {
                case .integer: .int
                case .boolean: .bool
                case .string, .dateTime, .reference, .password, .secret, .journal: .string
                }
            builder = builder.field(key, type)
        }
        if let columns = Self.unique[table.name] {
            builder = builder.constraint(
                .constraint(
                    .unique(fields: columns.map { .key(FieldKey(stringLiteral: $0)) }),
                    name: "\(table.databaseTable)_unique"))
        }
        try await builder.create()
    }

    func revert(on database: any Database) async throws {
        try await database.schema(NumberCounter.schema).delete()
        for table in Self.tables.reversed() {
            try await database.schema(table.databaseTable).delete()
        }
    }
}

/// The last number given per table (`INC0010001` …).
enum NumberCounter {
    static let schema = "desk_number_counters"
}

import Foundation

/// One ServiceNow table as the Table API serves it: its columns, their types and who may do what.
struct TableSchema: Sendable {
    /// Columns the migrations declare unique (besides `sys_id`): an ordering by one of them is already total.
    var uniqueColumns: Set<String> {
        switch name {
        case "incident": ["number"]
        case "sys_user": ["user_name"]
        case "sys_user_role": ["name"]
        case "oauth_entity": ["client_id"]
        default: []
        }
    }

    enum ColumnType: Sendable, Equatable {
        case string
        case integer
        case boolean
        /// `YYYY-MM-DD HH:MM:SS` in UTC, stored as text so it sorts and compares as on the wire.
        case dateTime
        /// The referenced table's `sys_id`.
        case reference(table: String)
        /// Accepted on writes and stored as a bcrypt hash; never read back.
        case password
        /// Accepted on writes and stored sealed with the master key (the desk must use it again); never read back.
        case secret
        /// `work_notes`, `comments`: each write appends an entry to `sys_journal_field`; the raw value reads
        /// as empty and the display value as the entries, newest first, as in ServiceNow.
        case journal
    }

    struct Column: Sendable {
        let name: String
        let type: ColumnType
        /// Labels for `sysparm_display_value` (ServiceNow's choice lists).
        let choices: [String: String]
        /// Set by the system (`sys_id`, `number`, `sys_created_on`, …); ignored on writes.
        let readOnly: Bool
        /// For integers the desk computes with (lifespans): the values a write may set.
        let range: ClosedRange<Int>?

        init(
            _ name: String, _ type: ColumnType, choices: [String: String] = [:], readOnly: Bool = false,
            range: ClosedRange<Int>? = nil
        ) {
            self.name = name
            self.type = type
            self.choices = choices
            self.readOnly = readOnly
            self.range = range
        }
    }

    /// The table's name on the wire, e.g. `incident`.
    let name: String
    let columns: [Column]
    /// The column shown for a record where it is referenced (`number`, `name`).
    let displayColumn: String
    let access: TableAccess
    /// The table's rules: defaults, computed values, what a change implies and makes stale.
    var behaviour: any TableBehaviour = PlainTable()

    /// The database table: desk tables are prefixed, so one database can host every service.
    var databaseTable: String { "desk_\(name)" }

    func column(_ name: String) -> Column? { columns.first { $0.name == name } }

    /// Columns the Table API shows and filters on: all but passwords and secrets.
    var visibleColumns: [Column] { columns.filter { $0.type != .password && $0.type != .secret } }

    /// Columns stored in the table's own rows (journal entries live in `sys_journal_field`).
    var storedColumns: [Column] { columns.filter { $0.type != .journal } }

    /// Columns a query may filter or order on.
    var queryableColumns: [Column] { visibleColumns.filter { $0.type != .journal } }

    static let systemColumns: [Column] = [
        Column("sys_id", .string, readOnly: true),
        Column("sys_created_on", .dateTime, readOnly: true),
        Column("sys_created_by", .string, readOnly: true),
        Column("sys_updated_on", .dateTime, readOnly: true),
        Column("sys_updated_by", .string, readOnly: true),
    ]
}

/// Roles allowed to read, write (insert and update) and delete a table's records. `admin` may do all.
struct TableAccess: Sendable {
    /// nil: any signed-in user.
    let read: Set<String>?
    let write: Set<String>
    let delete: Set<String>
}

import Fluent
import SQLKit

/// A change number per table, raised by the database itself on every insert, update and delete (triggers), so a
/// remembered count (``TableCounts``) knows whether it still holds whoever wrote: the Table API, the pages, an app,
/// `desk seed`, another instance or a hand-written statement. On PostgreSQL each table's number is spread over
/// eight rows, the transaction's ID choosing the row, so concurrent writers of one table rarely wait for one
/// another; the number is their sum. SQLite has one writer at a time and one row per table.
struct AddTableVersions: AsyncMigration {
    static let schema = "desk_table_versions"
    static let postgresShards = 8
    /// The desk's record tables when this migration was written (migrations are history: a table added later
    /// gets its triggers in its own migration, and until then is counted every time).
    static let tables = [
        "desk_sys_user", "desk_sys_user_role", "desk_sys_user_has_role", "desk_incident", "desk_oauth_entity",
        "desk_sys_journal_field", "desk_oidc_provider_configuration", "desk_oauth_entity_profile", "desk_syslog",
        "desk_sys_outbound_http_log", "desk_sys_scope_privilege",
    ]
    private static let function = "desk_raise_table_version"

    func prepare(on database: any Database) async throws {
        guard let sql = database as? any SQLDatabase else { return }
        try await sql.create(table: Self.schema)
            .column("table_name", type: .text, .notNull)
            .column("shard", type: .int, .notNull)
            .column("version", type: .bigint, .notNull)
            .primaryKey(["table_name", "shard"])
            .run()
        let postgres = sql.dialect.name == "postgresql"
        for table in Self.tables {
            for shard in 0..<(postgres ? Self.postgresShards : 1) {
                try await sql.insert(into: Self.schema).columns("table_name", "shard", "version")
                    .values(SQLBind(table), SQLBind(shard), SQLBind(0)).run()
            }
        }
        if postgres {
            try await sql.raw(
                """
                CREATE FUNCTION \(ident: Self.function)() RETURNS trigger LANGUAGE plpgsql AS $$
                BEGIN
                  UPDATE \(ident: Self.schema) SET version = version + 1
                   WHERE table_name = TG_TABLE_NAME AND shard = txid_current() % \(unsafeRaw: String(Self.postgresShards));
                  RETURN NULL;
                END $$
                """
            ).run()
            for table in Self.tables {
                try await sql.raw(
                    """
                    CREATE TRIGGER \(ident: table + "_version") AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE
                    ON \(ident: table) FOR EACH STATEMENT EXECUTE FUNCTION \(ident: Self.function)()
                    """
                ).run()
            }
        } else {
            for table in Self.tables {
                for event in ["INSERT", "UPDATE", "DELETE"] {
                    try await sql.raw(
                        """
                        CREATE TRIGGER \(ident: "\(table)_version_\(event.lowercased())") AFTER \(unsafeRaw: event)
                        ON \(ident: table) BEGIN
                          UPDATE \(ident: Self.schema) SET version = version + 1 WHERE table_name = \(literal: table);
                        END
                        """
                    ).run()
                }
            }
        }
    }

    func revert(on database: any Database) async throws {
        guard let sql = database as? any SQLDatabase else { return }
        let postgres = sql.dialect.name == "postgresql"
        for table in Self.tables {
            if postgres {
                try await sql.raw("DROP TRIGGER IF EXISTS \(ident: table + "_version") ON \(ident: table)").run()
            } else {
                for event in ["insert", "update", "delete"] {
                    try await sql.raw("DROP TRIGGER IF EXISTS \(ident: "\(table)_version_\(event)")").run()
                }
            }
        }
        if postgres { try await sql.raw("DROP FUNCTION IF EXISTS \(ident: Self.function)()").run() }
        try await sql.drop(table: Self.schema).ifExists().run()
    }
}

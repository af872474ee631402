import Fluent
import SQLKit

/// LIKE '%…%' on an incident's short description (the Table API's LIKE, the list's search): on PostgreSQL a trigram
/// index (the `pg_trgm` extension, trusted since PostgreSQL 13: a database owner may create it) finds the matches
/// instead of reading every row. Without the extension or the right to create it, the migration logs why and the
/// search scans as before. SQLite has no such index (an FTS5 table would keep a second copy of the text): it scans.
struct AddIncidentTrigramIndex: AsyncMigration {
    static let name = "desk_incident_short_description_trgm"

    func prepare(on database: any Database) async throws {
        guard let sql = database as? any SQLDatabase, sql.dialect.name == "postgresql" else { return }
        // Asked first rather than tried: a failed statement would abort a surrounding transaction.
        let row = try await sql.raw(
            """
            SELECT EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'pg_trgm') AS installed,
                   EXISTS (SELECT 1 FROM pg_available_extensions WHERE name = 'pg_trgm') AS available,
                   has_database_privilege(current_database(), 'CREATE') AS may_create
            """
        ).first()
        let installed = try row?.decode(column: "installed", as: Bool.self) ?? false
        let available = try row?.decode(column: "available", as: Bool.self) ?? false
        let mayCreate = try row?.decode(column: "may_create", as: Bool.self) ?? false
        guard installed || (available && mayCreate) else {
            database.logger.warning(
                "No trigram index for LIKE searches on incidents: the pg_trgm extension is not available or may not be created by this user; LIKE scans the table",
                metadata: ["available": "\(available)", "mayCreate": "\(mayCreate)"])
            return
        }
        if !installed { try await sql.raw("CREATE EXTENSION IF NOT EXISTS pg_trgm").run() }
        try await sql.raw(
            "CREATE INDEX IF NOT EXISTS \(ident: Self.name) ON \(ident: "desk_incident") USING gin (LOWER(\(ident: "short_description")) gin_trgm_ops)"
        ).run()
    }

    func revert(on database: any Database) async throws {
        guard let sql = database as? any SQLDatabase, sql.dialect.name == "postgresql" else { return }
        try await sql.raw("DROP INDEX IF EXISTS \(ident: Self.name)").run()
    }
}

import Fluent
import Foundation
import SQLKit
import ServerSupport
import Vapor

/// Builds a service's database two ways — fresh with every migration, and upgraded from its first release —
/// and reads both schemas back (table → column → type, as the database reports them), for a test to compare.
package struct MigrationHistory {
    package typealias Schema = [String: [String: String]]

    package let all: [any Migration]
    package let firstRelease: [any Migration]
    /// The prefix of the service's tables (`desk_`, `identity_`).
    package let tablePrefix: String

    package init(all: [any Migration], firstRelease: [any Migration], tablePrefix: String) {
        self.all = all
        self.firstRelease = firstRelease
        self.tablePrefix = tablePrefix
    }

    /// The schemas of the first release, of a fresh database and of the upgraded one; both databases are reverted
    /// afterwards. `fresh` and `upgraded` may be the same location (PostgreSQL): it is reverted in between.
    package func build(fresh: DatabaseLocation, upgraded: DatabaseLocation) async throws
        -> (first: Schema, fresh: Schema, upgraded: Schema)
    {
        try await migrate(fresh, all)
        let freshSchema = try await schema(fresh)
        if fresh == upgraded { try await migrate(fresh, all, revert: true) }
        try await migrate(upgraded, firstRelease)
        let firstSchema = try await schema(upgraded)
        try await migrate(upgraded, all)
        let upgradedSchema = try await schema(upgraded)
        try await migrate(upgraded, all, revert: true)
        if fresh != upgraded { try await migrate(fresh, all, revert: true) }
        return (firstSchema, freshSchema, upgradedSchema)
    }

    private func migrate(_ location: DatabaseLocation, _ migrations: [any Migration], revert: Bool = false)
        async throws
    {
        try await withApp(location) { app in
            app.migrations.add(migrations)
            if revert { try await app.autoRevert() } else { try await app.autoMigrate() }
        }
    }

    private func schema(_ location: DatabaseLocation) async throws -> Schema {
        var schema: Schema = [:]
        try await withApp(location) { app in
            guard let sql = app.db as? any SQLDatabase else { return }
            if sql.dialect.name == "sqlite" {
                let tables = try await sql.raw("SELECT name FROM sqlite_master WHERE type = 'table'").all()
                    .map { try $0.decode(column: "name", as: String.self) }.filter { $0.hasPrefix(tablePrefix) }
                for table in tables {
                    for column in try await sql.raw("PRAGMA table_info(\(ident: table))").all() {
                        schema[table, default: [:]][try column.decode(column: "name", as: String.self)] =
                            try column.decode(column: "type", as: String.self)
                    }
                }
            } else {
                let rows = try await sql.raw(
                    """
                    SELECT table_name, column_name, data_type FROM information_schema.columns
                    WHERE table_schema = current_schema() AND table_name LIKE \(bind: tablePrefix + "%")
                    """
                ).all()
                for row in rows {
                    schema[try row.decode(column: "table_name", as: String.self), default: [:]][
                        try row.decode(column: "column_name", as: String.self)] = try row.decode(
                            column: "data_type", as: String.self)
                }
            }
        }
        return schema
    }

    private func withApp(_ location: DatabaseLocation, _ body: (Application) async throws -> Void) async throws {
        let app = try await Application.make(.testing)
        do {
            try location.register(on: app)
            try await body(app)
        } catch {
            try? await app.asyncShutdown()
            throw error
        }
        try await app.asyncShutdown()
    }
}

import Fluent
import Foundation
import SQLKit
import ServerSupport
import TestSupport
import Testing
import Vapor

@testable import ServiceDesk

/// Migrations are history: a database upgraded from the first released schema ends exactly like a fresh one,
/// and every column the code knows exists in both.
@Suite("Desk migrations as history", .serialized)
struct MigrationHistoryTests {
    /// The migrations of the first released desk.
    static let firstRelease = Array(DeskMigrations.all.prefix(3))

    typealias Schema = [String: [String: String]]

    func migrate(_ location: DatabaseLocation, _ migrations: [any Migration], revert: Bool = false) async throws {
        let app = try await Application.make(.testing)
        do {
            try location.register(on: app)
            app.migrations.add(migrations)
            if revert { try await app.autoRevert() } else { try await app.autoMigrate() }
        } catch {
            try? await app.asyncShutdown()
            throw error
        }
        try await app.asyncShutdown()
    }

    /// Every table's columns and their declared types, as the database reports them.
    func schema(_ location: DatabaseLocation) async throws -> Schema {
        let app = try await Application.make(.testing)
        do {
            let schema = try await read(location, app)
            try await app.asyncShutdown()
            return schema
        } catch {
            try? await app.asyncShutdown()
            throw error
        }
    }

    private func read(_ location: DatabaseLocation, _ app: Application) async throws -> Schema {
        try location.register(on: app)
        guard let sql = app.db as? any SQLDatabase else { throw TestFailure("no SQL database") }
        var schema: Schema = [:]
        if sql.dialect.name == "sqlite" {
            let tables = try await sql.raw("SELECT name FROM sqlite_master WHERE type = 'table'").all()
                .map { try $0.decode(column: "name", as: String.self) }.filter { $0.hasPrefix("desk_") }
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
                WHERE table_schema = current_schema() AND table_name LIKE 'desk\\_%'
                """
            ).all()
            for row in rows {
                schema[try row.decode(column: "table_name", as: String.self), default: [:]][
                    try row.decode(column: "column_name", as: String.self)] = try row.decode(
                        column: "data_type", as: String.self)
            }
        }
        return schema
    }

    func compare(fresh: DatabaseLocation, upgraded: DatabaseLocation) async throws {
        try await migrate(fresh, DeskMigrations.all)
        let freshSchema = try await schema(fresh)
        if fresh == upgraded { try await migrate(fresh, DeskMigrations.all, revert: true) }
        try await migrate(upgraded, Self.firstRelease)
        let firstSchema = try await schema(upgraded)
        try await migrate(upgraded, DeskMigrations.all)
        let upgradedSchema = try await schema(upgraded)

        #expect(firstSchema["desk_incident"]?["active"] == nil, "the first release had no incident.active")
        #expect(Set(freshSchema.keys) == Set(upgradedSchema.keys))
        for (table, columns) in freshSchema {
            #expect(columns == upgradedSchema[table], "\(table) differs between a fresh and an upgraded database")
        }
        // Every column the Table API reads or writes exists.
        for table in DeskTables.all {
            let columns = try #require(freshSchema[table.databaseTable], "no table \(table.databaseTable)")
            for column in table.storedColumns {
                #expect(columns[column.name] != nil, "\(table.name).\(column.name) has no migration")
            }
        }
        try await migrate(upgraded, DeskMigrations.all, revert: true)
    }

    @Test func anUpgradedSQLiteDatabaseEqualsAFreshOne() async throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("m365-migrations-\(UUID())")
        defer { try? FileManager.default.removeItem(at: folder) }
        try await compare(
            fresh: .sqliteFile(folder.appendingPathComponent("fresh.sqlite")),
            upgraded: .sqliteFile(folder.appendingPathComponent("upgraded.sqlite")))
    }

    static let postgresURL = TestPostgres.url("M365_TEST_POSTGRES_DESK_URL")

    @Test(
        .enabled(if: postgresURL != nil, Comment(rawValue: TestPostgres.notConfigured("M365_TEST_POSTGRES_DESK_URL"))))
    func anUpgradedPostgresDatabaseEqualsAFreshOne() async throws {
        let location = DatabaseLocation.postgres(url: Self.postgresURL!)
        try await compare(fresh: location, upgraded: location)
    }
}

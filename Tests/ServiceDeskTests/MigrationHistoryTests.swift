import Foundation
import ServerSupport
import TestSupport
import Testing

@testable import ServiceDesk

/// Migrations are history: a database upgraded from the first released schema ends exactly like a fresh one,
/// and every column the code knows exists.
@Suite("Desk migrations as history", .serialized)
struct MigrationHistoryTests {
    static let history = MigrationHistory(
        all: DeskMigrations.all, firstRelease: Array(DeskMigrations.all.prefix(3)), tablePrefix: "desk_")

    static func check(fresh: DatabaseLocation, upgraded: DatabaseLocation) async throws {
        let schemas = try await Self.history.build(fresh: fresh, upgraded: upgraded)
        #expect(schemas.first["desk_incident"] != nil && schemas.first["desk_incident"]?["active"] == nil)
        #expect(Set(schemas.fresh.keys) == Set(schemas.upgraded.keys))
        for (table, columns) in schemas.fresh {
            #expect(columns == schemas.upgraded[table], "\(table) differs between a fresh and an upgraded database")
        }
        for table in DeskTables.all {
            let columns = try #require(schemas.fresh[table.databaseTable], "no table \(table.databaseTable)")
            for column in table.storedColumns {
                #expect(columns[column.name] != nil, "\(table.name).\(column.name) has no migration")
            }
        }
    }

    @Test func anUpgradedSQLiteDatabaseEqualsAFreshOne() async throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("m365-migrations-\(UUID())")
        defer { try? FileManager.default.removeItem(at: folder) }
        try await Self.check(
            fresh: .sqliteFile(folder.appendingPathComponent("fresh.sqlite")),
            upgraded: .sqliteFile(folder.appendingPathComponent("upgraded.sqlite")))
    }
}

import Foundation
import ServerSupport
import TestSupport
import Testing

@testable import Identity

/// Identity's migrations as history: upgrading from the first release ends exactly like a fresh database.
@Suite("Identity migrations as history", .serialized)
struct IdentityMigrationHistoryTests {
    static let history = MigrationHistory(
        all: IdentityMigrations.all, firstRelease: Array(IdentityMigrations.all.prefix(5)), tablePrefix: "identity_")

    static func check(fresh: DatabaseLocation, upgraded: DatabaseLocation) async throws {
        let schemas = try await Self.history.build(fresh: fresh, upgraded: upgraded)
        #expect(schemas.first["identity_delegated_permission_grants"] == nil)
        #expect(Set(schemas.fresh.keys) == Set(schemas.upgraded.keys))
        for (table, columns) in schemas.fresh {
            #expect(columns == schemas.upgraded[table], "\(table) differs between a fresh and an upgraded database")
        }
        #expect(schemas.fresh["identity_app_registrations"]?["required_resource_access"] != nil)
    }

    @Test func anUpgradedSQLiteDatabaseEqualsAFreshOne() async throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("m365-migrations-\(UUID())")
        defer { try? FileManager.default.removeItem(at: folder) }
        try await Self.check(
            fresh: .sqliteFile(folder.appendingPathComponent("fresh.sqlite")),
            upgraded: .sqliteFile(folder.appendingPathComponent("upgraded.sqlite")))
    }
}

import Fluent

/// `sys_journal_field`: work notes and additional comments.
struct CreateJournal: AsyncMigration {
    func prepare(on database: any Database) async throws {
        try await CreateDeskTables.create(DeskTables.journal, on: database)
    }

    func revert(on database: any Database) async throws {
        try await database.schema(DeskTables.journal.databaseTable).delete()
    }
}

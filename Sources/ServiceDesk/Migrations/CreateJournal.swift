import Fluent

/// `sys_journal_field`: work notes and additional comments.
struct CreateJournal: AsyncMigration {
    func prepare(on database: any Database) async throws {
        try await database.schema("desk_sys_journal_field")
            .field("sys_id", .string, .identifier(auto: false))
            .field("sys_created_on", .string)
            .field("sys_created_by", .string)
            .field("sys_updated_on", .string)
            .field("sys_updated_by", .string)
            .field("name", .string)
            .field("element", .string)
            .field("element_id", .string)
            .field("value", .string)
            .create()
    }

    func revert(on database: any Database) async throws {
        try await database.schema("desk_sys_journal_field").delete()
    }
}

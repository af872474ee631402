import Fluent
import ServerSupport

/// The desk's background jobs: schedules of periodic jobs and the queue (``JobRunner``).
struct CreateJobTables: AsyncMigration {
    func prepare(on database: any Database) async throws {
        try await DeskContext.jobTables.create(on: database)
    }

    func revert(on database: any Database) async throws {
        try await DeskContext.jobTables.delete(on: database)
    }
}

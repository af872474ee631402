import Fluent

/// The desk's background jobs: schedules of periodic jobs and the queue (``JobRunner``, tables `desk_jobs…`).
struct CreateJobTables: AsyncMigration {
    func prepare(on database: any Database) async throws {
        try await database.schema("desk_job_schedules")
            .field("name", .string, .identifier(auto: false))
            .field("next_run_at", .double, .required)
            .field("locked_by", .string)
            .create()
        try await database.schema("desk_jobs")
            .field("id", .string, .identifier(auto: false))
            .field("kind", .string, .required)
            .field("payload", .string, .required)
            .field("run_at", .double, .required)
            .field("attempts", .int, .required)
            .field("status", .string, .required)
            .field("locked_by", .string)
            .field("locked_until", .double)
            .field("last_error", .string)
            .field("created_at", .double, .required)
            .create()
    }

    func revert(on database: any Database) async throws {
        try await database.schema("desk_jobs").delete()
        try await database.schema("desk_job_schedules").delete()
    }
}

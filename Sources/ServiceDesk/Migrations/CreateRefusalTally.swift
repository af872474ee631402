import Fluent

/// The tally that folds refused unauthenticated requests into one system log entry per source, client address
/// and minute, so a flood of bad credentials cannot grow the system log without bound.
struct CreateRefusalTally: AsyncMigration {
    func prepare(on database: any Database) async throws {
        try await database.schema("desk_refusal_tally")
            .field("tally_key", .string, .identifier(auto: false))
            .field("syslog_sys_id", .string, .required)
            .field("minute", .int, .required)
            .field("count", .int, .required)
            .create()
    }

    func revert(on database: any Database) async throws {
        try await database.schema("desk_refusal_tally").delete()
    }
}

import Fluent

/// Query encoders learned from the sentence encoder, by what they learned from (see `QueryEncoders`).
struct CreateQueryEncoders: AsyncMigration {
    func prepare(on database: any Database) async throws {
        try await database.schema(QueryEncoders.table)
            .field("encoder_key", .string, .identifier(auto: false))
            .field("model", .string, .required)
            .field("encoder", .data, .required)
            .field("created_at", .double, .required)
            .create()
    }

    func revert(on database: any Database) async throws {
        try await database.schema(QueryEncoders.table).delete()
    }
}

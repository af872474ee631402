import Fluent

struct CreateSigningKey: AsyncMigration {
    func prepare(on database: any Database) async throws {
        try await database.schema(SigningKey.schema)
            .id()
            .field("kid", .string, .required)
            .field("private_key_sealed", .string, .required)
            .field("certificate", .string, .required)
            .field("created_at", .datetime, .required)
            .field("retired_at", .datetime)
            .field("published_until", .datetime)
            .unique(on: "kid")
            .create()
    }

    func revert(on database: any Database) async throws {
        try await database.schema(SigningKey.schema).delete()
    }
}

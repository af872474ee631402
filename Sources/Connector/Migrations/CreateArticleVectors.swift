import Fluent

/// The sentence encoder's vectors of articles, by what was encoded (see `ArticleVectors`).
struct CreateArticleVectors: AsyncMigration {
    func prepare(on database: any Database) async throws {
        try await database.schema(ArticleVectors.table)
            .field("vector_key", .string, .identifier(auto: false))
            .field("vector", .data, .required)
            .field("created_at", .double, .required)
            .create()
    }

    func revert(on database: any Database) async throws {
        try await database.schema(ArticleVectors.table).delete()
    }
}

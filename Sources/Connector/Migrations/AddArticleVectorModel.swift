import Fluent

/// Which model (``SolutionSearch/SentenceEncoder/modelName``) stored each vector, so an instance prunes only its
/// own: instances on processors with and without 8-bit products use different names and keep both sets.
struct AddArticleVectorModel: AsyncMigration {
    func prepare(on database: any Database) async throws {
        try await database.schema(ArticleVectors.table).field("model", .string).update()
    }

    func revert(on database: any Database) async throws {
        try await database.schema(ArticleVectors.table).deleteField("model").update()
    }
}

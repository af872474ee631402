import Fluent

/// The solutions knowledge base: articles shared by every tenant the Connector serves (`tenant_id` null), or
/// private to one. Times are seconds since 1970.
struct CreateKnowledgeBase: AsyncMigration {
    func prepare(on database: any Database) async throws {
        try await database.schema("connector_kb_articles")
            .field("article_id", .string, .identifier(auto: false))
            .field("tenant_id", .string)
            .field("title", .string, .required)
            .field("product", .string, .required)
            .field("url", .string, .required)
            .field("description", .string, .required)
            .field("symptoms", .string, .required)
            .field("cause", .string, .required)
            .field("resolution", .string, .required)
            .field("body", .string, .required)
            .field("updated_at", .double, .required)
            .field("retired", .bool, .required)
            .create()
    }

    func revert(on database: any Database) async throws {
        try await database.schema("connector_kb_articles").delete()
    }
}

import Fluent
import SQLKit

/// The knowledge base's revision: one row whose counter every change of articles moves on in its own
/// transaction, so each instance's search index can tell it is out of date with one cheap read (timestamps
/// cannot: two changes may share one).
struct CreateKnowledgeBaseRevision: AsyncMigration {
    func prepare(on database: any Database) async throws {
        try await database.schema("connector_kb_state")
            .field("name", .string, .identifier(auto: false))
            .field("revision", .int64, .required)
            .create()
        try await database.asSQL().insert(into: "connector_kb_state").columns("name", "revision")
            .values(SQLBind("articles"), SQLBind(0)).run()
    }

    func revert(on database: any Database) async throws {
        try await database.schema("connector_kb_state").delete()
    }
}

import Fluent
import Foundation
import SQLKit
import SolutionSearch

/// Query encoders (``SolutionSearch/DistilledQueryEncoder``) kept in the database by what they learned from — the
/// sentence encoder, the training sentences and the way of learning, hashed: learning one is seconds of CPU and
/// reading twenty thousand sentence vectors, so a restart, another instance and `kb eval` or `kb search` on the
/// same knowledge base read the one learned before.
package struct QueryEncoders: Sendable {
    let database: any Database
    static let table = "connector_kb_query_encoders"

    package init(database: any Database) {
        self.database = database
    }

    static func key(sentences: [String], model: String) -> String {
        ArticleVectors.hash(
            model + "\nquery encoder " + DistilledQueryEncoder.learningVersion + "\n"
                + sentences.joined(separator: "\n"))
    }

    /// The encoder learned before from `sentences` for `encoder`, if one is stored and reads back.
    package func stored(sentences: [String], encoder: SentenceEncoder) async throws -> DistilledQueryEncoder? {
        let row = try await database.asSQL().select().column("encoder").from(Self.table)
            .where("encoder_key", .equal, Self.key(sentences: sentences, model: encoder.modelName)).first()
        guard let data = try row?.decode(column: "encoder", as: Data.self) else { return nil }
        return DistilledQueryEncoder(serialized: data, encoder: encoder)
    }

    /// Stores `learned`, learned from `sentences`, and deletes the other encoders of its model (no longer
    /// wanted: the knowledge base changed) and other models' older than ``ArticleVectors/otherModelsKept``.
    package func store(_ learned: DistilledQueryEncoder, sentences: [String], now: Date = Date()) async throws {
        let model = learned.modelName
        let key = Self.key(sentences: sentences, model: model)
        let sql = try database.asSQL()
        try await sql.insert(into: Self.table).columns("encoder_key", "model", "encoder", "created_at")
            .values(
                SQLBind(key), SQLBind(model), SQLBind(learned.serialized()),
                SQLBind(now.timeIntervalSince1970)
            )
            .ignoringConflicts(with: "encoder_key").run()
        try await sql.delete(from: Self.table)
            .where("model", .equal, model).where("encoder_key", .notEqual, key).run()
        try await sql.delete(from: Self.table)
            .where("model", .notEqual, model)
            .where("created_at", .lessThan, now.timeIntervalSince1970 - ArticleVectors.otherModelsKept).run()
    }
}

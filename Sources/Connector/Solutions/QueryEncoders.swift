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

    /// How many encoders of one model are kept: the knowledge base's, and a few that `kb eval` or `kb search`
    /// learned from a file of articles, so neither pushes the other out.
    static let keptPerModel = 3

    /// Stores `learned`, learned from `sentences` (or marks it stored now, when it is there already), and deletes
    /// its model's older encoders beyond ``keptPerModel`` and other models' older than
    /// ``ArticleVectors/otherModelsKept``.
    package func store(_ learned: DistilledQueryEncoder, sentences: [String], now: Date = Date()) async throws {
        let model = learned.modelName
        let stamp = now.timeIntervalSince1970
        let sql = try database.asSQL()
        try await sql.insert(into: Self.table).columns("encoder_key", "model", "encoder", "created_at")
            .values(
                SQLBind(Self.key(sentences: sentences, model: model)), SQLBind(model), SQLBind(learned.serialized()),
                SQLBind(stamp)
            )
            .onConflict(with: "encoder_key") { $0.set(excludedValueOf: "created_at") }.run()
        let older = try await sql.select().column("encoder_key").from(Self.table).where("model", .equal, model)
            .orderBy("created_at", .descending).all().dropFirst(Self.keptPerModel)
            .map { try $0.decode(column: "encoder_key", as: String.self) }
        if !older.isEmpty {
            try await sql.delete(from: Self.table).where("encoder_key", .in, Array(older)).run()
        }
        try await sql.delete(from: Self.table)
            .where("model", .notEqual, model)
            .where("created_at", .lessThan, stamp - ArticleVectors.otherModelsKept).run()
    }
}

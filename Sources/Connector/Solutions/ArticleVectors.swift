import Crypto
import Fluent
import Foundation
import SQLKit
import ServerSupport
import SolutionSearch

/// The sentence encoder's vectors of articles, kept in the database by what was encoded (the model and the text,
/// hashed): encoding the whole knowledge base takes minutes of CPU, so a restart, another instance and `kb eval`
/// reuse them, and an edited article is encoded again because its text changed.
package struct ArticleVectors: Sendable {
    let database: any Database
    static let table = "connector_kb_vectors"
    /// Articles encoded between two writes (and two checks for shutdown).
    static let batchSize = 32

    package init(database: any Database) {
        self.database = database
    }

    static func key(of article: Article, encoder: SentenceEncoder) -> String {
        hash(encoder.modelName + "\n" + SemanticIndex.text(of: article))
    }

    /// A query encoder's training text is encoded as a query is (to fewer tokens than an article): its own key.
    static func key(ofSentence text: String, encoder: SentenceEncoder) -> String {
        hash(encoder.modelName + "\nquery\n" + text)
    }

    static func hash(_ text: String) -> String {
        // Hex by table: formatting each byte was most of a prune's time (tens of thousands of keys).
        let digits = Array("0123456789abcdef".utf8)
        var hex: [UInt8] = []
        hex.reserveCapacity(64)
        for byte in SHA256.hash(data: Data(text.utf8)) {
            hex.append(digits[Int(byte >> 4)])
            hex.append(digits[Int(byte & 0x0f)])
        }
        return String(decoding: hex, as: UTF8.self)
    }

    /// The stored vectors of `articles` (article ID → vector) and the articles that have none yet.
    package func stored(for articles: [Article], encoder: SentenceEncoder) async throws -> (
        vectors: [String: [Float]], missing: [Article]
    ) {
        let keys = articles.map { Self.key(of: $0, encoder: encoder) }
        let found = try await vectors(keys, dimensions: encoder.dimensions)
        var vectors: [String: [Float]] = [:]
        var missing: [Article] = []
        for (article, key) in zip(articles, keys) {
            if let vector = found[key] { vectors[article.id] = vector } else { missing.append(article) }
        }
        return (vectors, missing)
    }

    /// The stored query vectors of a query encoder's training texts (``DistilledQueryEncoder/trainingTexts(of:)``),
    /// in their order, and the texts that have none yet.
    package func stored(sentences texts: [String], encoder: SentenceEncoder) async throws -> (
        vectors: [(text: String, vector: [Float])], missing: [String]
    ) {
        let keys = texts.map { Self.key(ofSentence: $0, encoder: encoder) }
        let found = try await vectors(keys, dimensions: encoder.dimensions)
        var vectors: [(text: String, vector: [Float])] = []
        var missing: [String] = []
        for (text, key) in zip(texts, keys) {
            if let vector = found[key] { vectors.append((text, vector)) } else { missing.append(text) }
        }
        return (vectors, missing)
    }

    private func vectors(_ keys: [String], dimensions: Int) async throws -> [String: [Float]] {
        var found: [String: [Float]] = [:]
        let sql = try database.asSQL()
        for start in stride(from: 0, to: keys.count, by: 500) {
            let batch = Array(keys[start..<min(keys.count, start + 500)])
            for row in try await sql.select().columns("vector_key", "vector").from(Self.table)
                .where("vector_key", .in, batch).all()
            {
                let key = try row.decode(column: "vector_key", as: String.self)
                let vector = Self.floats(try row.decode(column: "vector", as: Data.self))
                if vector.count == dimensions { found[key] = vector }
            }
        }
        return found
    }

    /// Encodes `articles` on every core, a batch at a time, storing each batch; `progress` hears (done, all).
    /// Stops between batches when the task is cancelled. Returns article ID → vector of those encoded.
    package func encode(
        _ articles: [Article], encoder: SentenceEncoder, progress: @Sendable (Int, Int) -> Void = { _, _ in }
    ) async throws -> [String: [Float]] {
        let encoded = try await encode(
            articles.map { (Self.key(of: $0, encoder: encoder), SemanticIndex.text(of: $0)) },
            limit: SentenceEncoder.maxTokens, encoder: encoder, progress: progress)
        return Dictionary(zip(articles.map(\.id), encoded), uniquingKeysWith: { _, last in last })
    }

    /// Encodes a query encoder's training texts as queries, stored as ``encode(_:encoder:progress:)`` does.
    package func encode(
        sentences texts: [String], encoder: SentenceEncoder, progress: @Sendable (Int, Int) -> Void = { _, _ in }
    ) async throws -> [(text: String, vector: [Float])] {
        let encoded = try await encode(
            texts.map { (Self.key(ofSentence: $0, encoder: encoder), $0) }, limit: SentenceEncoder.maxQueryTokens,
            encoder: encoder, progress: progress)
        return Array(zip(texts, encoded))
    }

    private func encode(
        _ items: [(key: String, text: String)], limit: Int, encoder: SentenceEncoder,
        progress: @Sendable (Int, Int) -> Void
    ) async throws -> [[Float]] {
        var vectors: [[Float]] = []
        vectors.reserveCapacity(items.count)
        // Short texts go by more at a time: a batch is a few seconds of work either way.
        let batchSize = limit < SentenceEncoder.maxTokens ? Self.batchSize * 8 : Self.batchSize
        for start in stride(from: 0, to: items.count, by: batchSize) {
            try Task.checkCancellation()
            let batch = Array(items[start..<min(items.count, start + batchSize)])
            let encoded = await Self.encodeOffCooperativePool(batch.map(\.text), limit: limit, encoder: encoder)
            let now = Date().timeIntervalSince1970
            let insert = try database.asSQL().insert(into: Self.table)
                .columns("vector_key", "vector", "created_at", "model")
            for (item, vector) in zip(batch, encoded) {
                insert.values(SQLBind(item.key), SQLBind(Self.data(vector)), SQLBind(now), SQLBind(encoder.modelName))
            }
            // Another instance may have stored the same vector meanwhile: it is the same.
            try await insert.ignoringConflicts(with: "vector_key").run()
            vectors.append(contentsOf: encoded)
            progress(min(items.count, start + batchSize), items.count)
        }
        return vectors
    }

    /// Vectors another model stored (another precision, an older encoding revision) are kept this long after they
    /// were stored: an instance of that model may still use them, and it encodes again what went.
    static let otherModelsKept: TimeInterval = 30 * 86_400

    /// Deletes this encoder's vectors that neither an article in `articles` nor a training text in `sentences`
    /// has any more (edited or retired ones), and other models' older than ``otherModelsKept``; returns how many.
    @discardableResult
    package func prune(
        keeping articles: [Article], sentences: [String] = [], encoder: SentenceEncoder, now: Date = Date()
    ) async throws -> Int {
        let keep = Set(
            articles.map { Self.key(of: $0, encoder: encoder) }
                + sentences.map { Self.key(ofSentence: $0, encoder: encoder) })
        let sql = try database.asSQL()
        let expired = now.timeIntervalSince1970 - Self.otherModelsKept
        // Rows stored before the model was recorded have none: they are judged as this model's, as they were.
        let stale = try await sql.select().columns("vector_key", "model", "created_at").from(Self.table).all()
            .compactMap { row -> String? in
                guard let key = try? row.decode(column: "vector_key", as: String.self), !keep.contains(key) else {
                    return nil
                }
                let model = try? row.decode(column: "model", as: String?.self)
                if let model, model != encoder.modelName {
                    let stored = (try? row.decode(column: "created_at", as: Double.self)) ?? 0
                    return stored < expired ? key : nil
                }
                return key
            }
        for start in stride(from: 0, to: stale.count, by: 500) {
            try await sql.delete(from: Self.table)
                .where("vector_key", .in, Array(stale[start..<min(stale.count, start + 500)])).run()
        }
        return stale.count
    }

    /// Encoding is seconds of CPU per batch: on dispatch threads, both cores at once.
    static func encodeOffCooperativePool(_ texts: [String], limit: Int, encoder: SentenceEncoder) async -> [[Float]] {
        await offCooperativePool(qos: .utility) { encoder.encode(all: texts, limit: limit) }
    }

    static func data(_ vector: [Float]) -> Data {
        vector.withUnsafeBufferPointer { Data(buffer: $0) }
    }

    static func floats(_ data: Data) -> [Float] {
        var vector = [Float](repeating: 0, count: data.count / MemoryLayout<Float>.size)
        vector.withUnsafeMutableBytes { _ = data.copyBytes(to: $0) }
        return vector
    }
}

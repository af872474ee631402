import CEncoderKernels
import Foundation
import Synchronization

/// The semantic part of the index: every article's vector from the sentence encoder, in the index's article
/// order, and the encoder for the query. A search mixes the lexical score (scaled to the best one) with the
/// cosine of the query's vector and the article's: it finds articles that say the same in other words
/// (vague tickets, "freezes" for "pauses"), while the lexical part keeps error codes and exact messages first.
public struct SemanticIndex: Sendable {
    public let encoder: SentenceEncoder
    /// count × dimensions halves (``CEncoderKernels/ek_to_f16``), row by row in the index's article order.
    let vectors: [UInt16]
    /// The query encoder learned from the sentence encoder, when the knowledge base has enough text to learn from.
    public let distilled: DistilledQueryEncoder?
    /// The vectors of recent queries: an incident's text is searched again each time its tab opens.
    let recentQueries = QueryVectorCache(capacity: 256)

    /// How much the cosine weighs beside the lexical score scaled to 1 (docs/search.md has the measurements).
    static let weight = Float(SolutionIndex.tuning("SS_SEM")?.first ?? 2.5)
    /// Threads that share a query's encoding: the cores, at most two (measured: docs/benchmarks.md).
    public static let queryThreads =
        SolutionIndex.tuning("SS_QUERY_THREADS")?.first.flatMap { $0.isFinite ? Int(min(8, max(1, $0))) : nil }
        ?? min(2, ProcessInfo.processInfo.activeProcessorCount)
    /// How many of the lexical best are re-scored.
    static let depth = Int(SolutionIndex.tuning("SS_DEPTH")?.first ?? 100)

    /// The vectors of `articles` from `vectors` (article ID → vector), or nil when one is missing or of another
    /// size: a half-semantic index would favour the articles that have one.
    init?(
        encoder: SentenceEncoder, articles: [Article], vectors: [String: [Float]],
        queryTraining: [(text: String, vector: [Float])], minimum: Int, reusing: DistilledQueryEncoder? = nil
    ) {
        let dimensions = encoder.dimensions
        var flat: [Float] = []
        flat.reserveCapacity(articles.count * dimensions)
        for article in articles {
            guard let vector = vectors[article.id], vector.count == dimensions else { return nil }
            flat.append(contentsOf: vector)
        }
        self.encoder = encoder
        var halves = [UInt16](repeating: 0, count: flat.count)
        halves.withUnsafeMutableBufferPointer { ek_to_f16(flat, flat.count, $0.baseAddress) }
        self.vectors = halves
        if let reusing, reusing.dimensions == dimensions, reusing.modelName == encoder.modelName {
            self.distilled = reusing
        } else {
            self.distilled =
                queryTraining.isEmpty
                ? nil : DistilledQueryEncoder(encoder: encoder, texts: queryTraining, minimum: minimum)
        }
    }

    /// The text of an article the encoder reads: title, description and the symptoms (or the start of the body).
    public static func text(of article: Article) -> String {
        let detail = article.symptoms.isEmpty ? article.body : article.symptoms
        return "\(article.title). \(article.description) \(detail.prefix(1500))"
    }

    /// The vector of a query's text (its first ``SentenceEncoder/maxQueryTokens`` tokens): from the distilled query
    /// encoder when there is one and `distilled`, else from the sentence encoder. A text none of whose pieces the
    /// distilled encoder knows gets a zero vector: the lexical ranking stands.
    func queryVector(_ text: String, distilled: Bool) -> [Float] {
        if distilled, let encoder = self.distilled {
            return encoder.encode(text) ?? [Float](repeating: 0, count: self.encoder.dimensions)
        }
        if let known = recentQueries[text] { return known }
        let vector = encoder.encode(
            String(text.prefix(SentenceEncoder.maxQueryCharacters)), limit: SentenceEncoder.maxQueryTokens,
            threads: Self.queryThreads)
        recentQueries[text] = vector
        return vector
    }

    /// The cosines of the query's vector with the articles at `positions` (each in the index).
    func similarities(_ query: [Float], positions: [Int32]) -> [Float] {
        guard query.count == encoder.dimensions, !positions.isEmpty else {
            return [Float](repeating: 0, count: positions.count)
        }
        var out = [Float](repeating: 0, count: positions.count)
        positions.withUnsafeBufferPointer { positions in
            out.withUnsafeMutableBufferPointer { out in
                ek_dot_rows_f16(
                    query, vectors, positions.baseAddress, positions.count, query.count, out.baseAddress)
            }
        }
        return out
    }
}

/// The last `capacity` query vectors by their text; the oldest goes first.
final class QueryVectorCache: Sendable {
    private struct State {
        var vectors: [String: [Float]] = [:]
        var order: [String] = []
    }

    private let state = Mutex(State())
    let capacity: Int

    init(capacity: Int) {
        self.capacity = capacity
    }

    func removeAll() {
        state.withLock { $0 = State() }
    }

    subscript(text: String) -> [Float]? {
        get { state.withLock { $0.vectors[text] } }
        set {
            guard let newValue, text.utf8.count <= 20_000 else { return }
            state.withLock { state in
                if state.vectors.updateValue(newValue, forKey: text) == nil { state.order.append(text) }
                if state.order.count > capacity { state.vectors[state.order.removeFirst()] = nil }
            }
        }
    }
}

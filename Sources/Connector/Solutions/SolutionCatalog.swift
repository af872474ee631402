import Foundation
import Logging
import ServerSupport
import SolutionSearch
import Synchronization

/// The search index of the knowledge base, in memory and in step with its table: built at start, rebuilt right
/// after a change made through this instance, and within ``refreshInterval`` of a change made elsewhere (the
/// CLI's `kb import`, another instance sharing PostgreSQL), which the knowledge base's revision reveals. Searches read
/// the current index without waiting: a rebuild builds a new index beside it and swaps it in.
///
/// With a sentence encoder, the index is semantic once every article has its vector (``ArticleVectors``): the
/// vectors stored already are read at the build; missing ones (a first start, an import) are encoded in the
/// background while searches stay lexical, and the index is rebuilt when they are done.
package final class SolutionCatalog: Sendable {
    package static let refreshInterval: TimeInterval = 10
    /// Up to this many articles and sentences without vectors (an edit, a few new articles) are encoded during
    /// the rebuild — a fraction of a second; more (a first start, an import) in the background.
    static let encodedInPlace = (articles: 16, sentences: 256)
    static let encodingMessage =
        "Encoding articles for semantic search, and sentences to learn a query encoder from; "
        + "searches are lexical until the articles are done"

    private struct Snapshot: Sendable {
        let index: SolutionIndex
        let revision: Int?
    }

    private let snapshot = Mutex(Snapshot(index: SolutionIndex(articles: []), revision: nil))
    private let builds = BuildQueue()
    /// The sentence encoder's folder; the encoder is read at the first build (commands that never search don't
    /// read 90 MB).
    private let model: URL?
    private let loaded = Mutex<(done: Bool, encoder: SentenceEncoder?)>((false, nil))
    private let encoding = Mutex<(task: Task<Void, Never>?, stopped: Bool)>((nil, false))

    /// Whether queries are read by a query encoder distilled from the sentence encoder, and from how many
    /// training sentences on.
    private let distilledQueries: Bool
    private let distillationMinimum: Int
    /// The query encoder learned last, with the sentences it learned from: kept while the knowledge base's
    /// sentences hardly change (``DistilledQueryEncoder/serves(learnedFrom:now:)``), so that an edit rebuilds the
    /// index without learning again.
    private let learned = Mutex<(encoder: DistilledQueryEncoder, sentences: Set<String>)?>(nil)
    private let learnings = Atomic<Int>(0)
    /// The training sentences chosen last, so that an edit reads only the changed articles' sentences again.
    private let trainingChoice = Mutex(TrainingTextChoice())

    /// How many times a query encoder was learned.
    package var queryEncoderLearnings: Int { learnings.load(ordering: .relaxed) }

    package init(
        model: URL? = nil, distilledQueries: Bool = true,
        distillationMinimum: Int = DistilledQueryEncoder.minimumTexts
    ) {
        self.model = model
        self.distilledQueries = distilledQueries
        self.distillationMinimum = distillationMinimum
    }

    /// The sentence encoder, read once; nil (lexical search) when there is none or it cannot be read.
    private func encoder(logger: Logger) -> SentenceEncoder? {
        loaded.withLock { state in
            guard !state.done else { return state.encoder }
            state.done = true
            guard let model else { return nil }
            do {
                state.encoder = try SentenceEncoder(folder: model)
                logger.info("Semantic search on", metadata: ["model": "\(model.path)"])
            } catch {
                logger.error(
                    "The semantic search model could not be read; searches are lexical",
                    metadata: ["model": "\(model.path)", "error": "\(error)"])
            }
            return state.encoder
        }
    }

    /// The index searches use now.
    package var index: SolutionIndex { snapshot.withLock { $0.index } }

    /// Rebuilds the index when the knowledge base changed since it was built; true when it did. Rebuilds run one
    /// at a time, so an older state never replaces a newer one.
    @discardableResult
    package func refresh(from knowledgeBase: KnowledgeBase, logger: Logger) async throws -> Bool {
        try await builds.serially { [self] in
            // The revision first: a change committed between the two reads is then indexed early and indexed
            // again at the next refresh, never missed.
            let revision = try await knowledgeBase.revision()
            guard revision != snapshot.withLock({ $0.revision }) else { return false }
            let started = ContinuousClock.now
            let articles = try await knowledgeBase.articles()
            var semantic: (encoder: SentenceEncoder, vectors: [String: [Float]])?
            var missing: [Article] = []
            var sentences: [String] = []
            var missingSentences: [String] = []
            var queryTraining: [(text: String, vector: [Float])] = []
            var reused: DistilledQueryEncoder?
            var readStoredEncoder = false
            let encoder = encoder(logger: logger)
            if let encoder {
                let store = ArticleVectors(database: knowledgeBase.database)
                let stored = try await store.stored(for: articles, encoder: encoder)
                var vectors = stored.vectors
                missing = stored.missing
                var encodedHere = false
                // Stopped (shutting down): nothing is encoded any more.
                let limits = encoding.withLock { $0.stopped } ? (articles: 0, sentences: 0) : Self.encodedInPlace
                // An edit or two: encoded now, so that the index stays semantic, rather than lexical until a
                // background encoding and a second rebuild.
                if !missing.isEmpty, missing.count <= limits.articles {
                    vectors.merge(try await store.encode(missing, encoder: encoder)) { _, new in new }
                    missing = []
                    encodedHere = true
                }
                if missing.isEmpty { semantic = (encoder, vectors) }
                if distilledQueries {
                    // Chosen off the lock (rebuilds run one at a time), and kept for the next rebuild.
                    let last = trainingChoice.withLock { $0 }
                    let chosen = await offCooperativePool(qos: .utility) {
                        var choice = last
                        return (choice.texts(of: articles), choice)
                    }
                    sentences = chosen.0
                    trainingChoice.withLock { $0 = chosen.1 }
                }
                // Too few to learn from: queries are encoded by the sentence encoder, nothing to store.
                if sentences.count < distillationMinimum { sentences = [] }
                let previous = learned.withLock { $0 }.flatMap { $0.encoder.modelName == encoder.modelName ? $0 : nil }
                let check =
                    sentences.isEmpty
                    ? nil : previous.map { $0.encoder.serves(learnedFrom: $0.sentences, now: sentences) }
                var kept = check?.serves == true ? previous?.encoder : nil
                // With the encoder kept, only the new sentences' vectors are wanted (for the next learning); with
                // one learned before from these very sentences (a restart, another instance), none.
                var wanted = kept == nil ? sentences : check?.added ?? []
                if kept == nil, !sentences.isEmpty,
                    let stored = try await QueryEncoders(database: knowledgeBase.database).stored(
                        sentences: sentences, encoder: encoder)
                {
                    kept = stored
                    wanted = []
                    readStoredEncoder = true
                    learned.withLock { $0 = (stored, Set(sentences)) }
                }
                let storedSentences = try await store.stored(sentences: wanted, encoder: encoder)
                var sentenceVectors = storedSentences.vectors
                missingSentences = storedSentences.missing
                if !missingSentences.isEmpty, missingSentences.count <= limits.sentences {
                    sentenceVectors += try await store.encode(sentences: missingSentences, encoder: encoder)
                    missingSentences = []
                    encodedHere = true
                }
                if let kept {
                    reused = kept
                } else if missingSentences.isEmpty {
                    queryTraining = sentenceVectors
                } else if !sentences.isEmpty {
                    // Until the new sentences are encoded, the last encoder reads queries rather than the sentence
                    // encoder, at a hundredth of its cost.
                    reused = previous?.encoder
                }
                // What the edit replaced goes now (a background encoding prunes when it ends).
                if encodedHere, missing.isEmpty, missingSentences.isEmpty {
                    try await store.prune(keeping: articles, sentences: sentences, encoder: encoder)
                }
            }
            let index = await build(articles, semantic: semantic, queryTraining: queryTraining, reusing: reused)
            let learnedNow = !queryTraining.isEmpty && index.queryEncoder == .distilled
            if learnedNow, let distilled = index.distilledQueryEncoder {
                learned.withLock { $0 = (distilled, Set(sentences)) }
                learnings.add(1, ordering: .relaxed)
                // Kept for the next start; the search does not depend on it.
                do {
                    try await QueryEncoders(database: knowledgeBase.database).store(
                        distilled, sentences: sentences)
                } catch {
                    logger.warning(
                        "The query encoder learned was not stored; the next start learns it again",
                        metadata: ["error": "\(String(reflecting: error))"])
                }
            }
            snapshot.withLock { $0 = Snapshot(index: index, revision: revision) }
            logger.info(
                "Indexed the knowledge base",
                metadata: [
                    "articles": "\(articles.count)",
                    "semantic": "\(index.isSemantic)",
                    "queryEncoder": "\(index.queryEncoder)", "learnedQueryEncoder": "\(learnedNow)",
                    "storedQueryEncoder": "\(readStoredEncoder && index.queryEncoder == .distilled)",
                    "milliseconds": "\(Int(Double((ContinuousClock.now - started) / .microseconds(1)) / 1000))",
                ])
            if let encoder, !missing.isEmpty || !missingSentences.isEmpty {
                startEncoding(
                    missing, sentences: missingSentences, all: articles, allSentences: sentences, encoder: encoder,
                    knowledgeBase: knowledgeBase, logger: logger)
            }
            return true
        }
    }

    /// Encodes `missing` articles, then the `sentences` the query encoder learns from, in the background (one
    /// encoding at a time), then rebuilds the index.
    private func startEncoding(
        _ missing: [Article], sentences: [String], all articles: [Article], allSentences: [String],
        encoder: SentenceEncoder, knowledgeBase: KnowledgeBase, logger: Logger
    ) {
        encoding.withLock { state in
            guard state.task == nil, !state.stopped else { return }
            state.task = Task.detached(priority: .utility) { [self] in
                let vectors = ArticleVectors(database: knowledgeBase.database)
                let started = ContinuousClock.now
                logger.notice(
                    "\(Self.encodingMessage)",
                    metadata: [
                        "articles": "\(missing.count)", "sentences": "\(sentences.count)",
                        "model": "\(encoder.modelName)",
                    ])
                do {
                    _ = try await vectors.encode(missing, encoder: encoder) { done, all in
                        if done % (ArticleVectors.batchSize * 16) == 0 || done == all {
                            logger.info("Encoded articles", metadata: ["done": "\(done)", "of": "\(all)"])
                        }
                    }
                    if !missing.isEmpty, !sentences.isEmpty {
                        // Searches weigh meaning from now on, with the sentence encoder reading the queries.
                        snapshot.withLock { $0 = Snapshot(index: $0.index, revision: nil) }
                        try await refresh(from: knowledgeBase, logger: logger)
                    }
                    _ = try await vectors.encode(sentences: sentences, encoder: encoder) { done, all in
                        if done % (ArticleVectors.batchSize * 64) == 0 || done == all {
                            logger.info("Encoded sentences", metadata: ["done": "\(done)", "of": "\(all)"])
                        }
                    }
                    let pruned = try await vectors.prune(keeping: articles, sentences: allSentences, encoder: encoder)
                    logger.notice(
                        "Encoded the articles and sentences",
                        metadata: [
                            "articles": "\(missing.count)", "sentences": "\(sentences.count)",
                            "prunedVectors": "\(pruned)",
                            "seconds": "\(Int(Double((ContinuousClock.now - started) / .milliseconds(1)) / 1000))",
                        ])
                    snapshot.withLock { $0 = Snapshot(index: $0.index, revision: nil) }
                    // Done before the rebuild: articles added meanwhile start an encoding of their own.
                    encoding.withLock { $0.task = nil }
                    try await refresh(from: knowledgeBase, logger: logger)
                } catch is CancellationError {
                    encoding.withLock { $0.task = nil }
                    logger.info("Encoding articles stopped at shutdown; it goes on at the next start")
                } catch {
                    encoding.withLock { $0.task = nil }
                    logger.error(
                        "Encoding articles failed; searches stay lexical until the next change or start",
                        metadata: ["error": "\(String(reflecting: error))"])
                }
            }
        }
    }

    /// Whether articles are being encoded in the background.
    package var isEncoding: Bool { encoding.withLock { $0.task != nil } }

    /// Stops a background encoding (at shutdown, before the database goes) and waits for it.
    package func stop() async {
        let task = encoding.withLock { state -> Task<Void, Never>? in
            state.stopped = true
            state.task?.cancel()
            return state.task
        }
        await task?.value
    }
}

extension SolutionCatalog {
    /// Builds an index (and learns its query encoder) on a dispatch queue: a build is seconds of CPU for a large
    /// knowledge base, and holding one of the few cooperative threads that long would stall every service's
    /// requests in this process.
    fileprivate func build(
        _ articles: [Article], semantic: (encoder: SentenceEncoder, vectors: [String: [Float]])?,
        queryTraining: [(text: String, vector: [Float])], reusing: DistilledQueryEncoder?
    ) async -> SolutionIndex {
        var options = SearchOptions()
        options.distilledQueries = distilledQueries
        let minimum = distillationMinimum
        return await offCooperativePool(qos: .utility) { [options] in
            SolutionIndex(
                articles: articles, options: options, semantic: semantic, queryTraining: queryTraining,
                queryTrainingMinimum: minimum, queryEncoder: reusing)
        }
    }
}

/// Runs async work one piece at a time, in the order asked (none overlap). Each piece waits for the one asked
/// before it: a loop that re-read "the running one" could spin on a finished task while its owner waited for the
/// actor to clear it — a livelock seen when the background encoding and a caller refreshed at once.
private actor BuildQueue {
    private var last: Task<Void, Never>?

    func serially<T: Sendable>(_ work: @escaping @Sendable () async throws -> T) async throws -> T {
        let previous = last
        let task = Task {
            await previous?.value
            return try await work()
        }
        last = Task { _ = try? await task.value }
        return try await task.value
    }
}

import Foundation
import Logging
import SolutionSearch
import Synchronization

/// The search index of the knowledge base, in memory and in step with its table: built at start, rebuilt right
/// after a change made through this instance, and within ``refreshInterval`` of a change made elsewhere (the
/// CLI's `kb import`, another instance sharing PostgreSQL), which the knowledge base's revision reveals. Searches read
/// the current index without waiting: a rebuild builds a new index beside it and swaps it in.
package final class SolutionCatalog: Sendable {
    package static let refreshInterval: TimeInterval = 10

    private struct Snapshot: Sendable {
        let index: SolutionIndex
        let revision: Int?
    }

    private let snapshot = Mutex(Snapshot(index: SolutionIndex(articles: []), revision: nil))
    private let builds = BuildQueue()

    package init() {}

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
            let index = await Self.build(articles)
            snapshot.withLock { $0 = Snapshot(index: index, revision: revision) }
            logger.info(
                "Indexed the knowledge base",
                metadata: [
                    "articles": "\(articles.count)",
                    "milliseconds": "\(Int(Double((ContinuousClock.now - started) / .microseconds(1)) / 1000))",
                ])
            return true
        }
    }
}

extension SolutionCatalog {
    /// Builds an index on a dispatch queue: a build is seconds of CPU for a large knowledge base, and holding one
    /// of the few cooperative threads that long would stall every service's requests in this process.
    fileprivate static func build(_ articles: [Article]) async -> SolutionIndex {
        await withCheckedContinuation { continuation in
            DispatchQueue.global(qos: .utility).async {
                continuation.resume(returning: SolutionIndex(articles: articles))
            }
        }
    }
}

/// Runs async work one piece at a time (whoever waits may go next; none overlap).
private actor BuildQueue {
    private var running: Task<Void, Never>?

    func serially<T: Sendable>(_ work: @escaping @Sendable () async throws -> T) async throws -> T {
        // Re-checked after every wait: another caller may have started in between.
        while let running { await running.value }
        let task = Task { try await work() }
        running = Task { _ = try? await task.value }
        defer { running = nil }
        return try await task.value
    }
}

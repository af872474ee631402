import Foundation
import Synchronization
import Vapor

/// Counts requests being handled, so shutdown can let them finish before the databases close.
///
/// Vapor stops accepting connections at `server.shutdown()`, but handlers already running go on; closing
/// the databases under them would crash Fluent's `request.db`. Future-based, not `AsyncMiddleware`: it wraps
/// every request, and an async middleware costs a task hop each time.
package final class InFlightRequests: Middleware, Sendable {
    private let count = Mutex(0)

    package init() {}

    package var current: Int { count.withLock { $0 } }

    package func respond(to request: Request, chainingTo next: any Responder) -> EventLoopFuture<Response> {
        count.withLock { $0 += 1 }
        return next.respond(to: request).always { _ in self.count.withLock { $0 -= 1 } }
    }

    /// Waits until no request is in flight, or `timeout` has passed; returns whether it drained.
    @discardableResult
    package func drain(timeout: Duration = .seconds(10)) async -> Bool {
        let deadline = ContinuousClock.now.advanced(by: timeout)
        while current > 0 {
            guard ContinuousClock.now < deadline else { return false }
            try? await Task.sleep(for: .milliseconds(5))
        }
        return true
    }
}

extension Application {
    private struct InFlightRequestsKey: StorageKey {
        typealias Value = InFlightRequests
    }

    /// The app's in-flight counter; services install it first in their middleware.
    package var inFlightRequests: InFlightRequests {
        if let existing = storage[InFlightRequestsKey.self] { return existing }
        let created = InFlightRequests()
        storage[InFlightRequestsKey.self] = created
        return created
    }

    /// Stops accepting requests, lets those in flight finish (up to `timeout`), then shuts the app down.
    package func drainAndShutdown(timeout: Duration = .seconds(10)) async throws {
        await server.shutdown()
        if !(await inFlightRequests.drain(timeout: timeout)) {
            logger.warning(
                "Requests still in flight at shutdown", metadata: ["requests": "\(inFlightRequests.current)"])
        }
        try await asyncShutdown()
    }
}

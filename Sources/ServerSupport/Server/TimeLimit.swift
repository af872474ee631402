import Foundation

/// The work did not finish within its time limit.
package struct TimeLimitExceeded: Error, Sendable, CustomStringConvertible {
    package let limit: Duration

    package var description: String { "did not answer within \(limit)" }
}

/// Runs `work`, cancelling it and throwing ``TimeLimitExceeded`` when `limit` passes first. The work must honour
/// cancellation (network calls and sleeps do) for the limit to end it.
package func withTimeLimit<T: Sendable>(
    _ limit: Duration, _ work: @escaping @Sendable () async throws -> T
) async throws -> T {
    try await withThrowingTaskGroup(of: T.self) { group in
        group.addTask { try await work() }
        group.addTask {
            try await Task.sleep(for: limit)
            throw TimeLimitExceeded(limit: limit)
        }
        defer { group.cancelAll() }
        guard let first = try await group.next() else { throw CancellationError() }
        return first
    }
}

import Foundation
import Synchronization

/// A clock tests move by hand, to check expiry without waiting.
package final class TestClock: Sendable {
    private let current: Mutex<Date>

    package init(_ start: Date = Date(timeIntervalSince1970: 1_790_000_000)) {
        current = Mutex(start)
    }

    package var now: Date { current.withLock { $0 } }

    package func advance(by seconds: TimeInterval) {
        current.withLock { $0 = $0.addingTimeInterval(seconds) }
    }

    /// A `now` closure to hand to configs.
    package var provider: @Sendable () -> Date { { [self] in self.now } }
}

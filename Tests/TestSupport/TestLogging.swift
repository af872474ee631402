import Foundation
import Logging

/// Every log line of the test process, for tests that prove secrets never reach the logs.
///
/// `LoggingSystem` is process-global and bootstraps once, so all suites share this capture;
/// secrets in tests are random, so another test's lines cannot make a check pass or fail.
package enum TestLogging {
    package static let capture = LogCapture()

    private static let bootstrapped: Bool = {
        LoggingSystem.bootstrap { _ in
            var handler = CapturingLogHandler(capture: capture)
            handler.logLevel = .debug
            return handler
        }
        return true
    }()

    package static func bootstrap() {
        _ = bootstrapped
    }
}

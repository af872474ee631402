import Foundation

/// Checks `condition` every `interval` until it holds or `timeout` passes; true when it held. For work a test
/// started in the background (never a fixed sleep).
package func poll(
    timeout: Duration, interval: Duration = .milliseconds(50), _ condition: () async throws -> Bool
) async throws -> Bool {
    let deadline = ContinuousClock.now.advanced(by: timeout)
    while ContinuousClock.now < deadline {
        if try await condition() { return true }
        try await Task.sleep(for: interval)
    }
    return try await condition()
}

/// The sentence encoder scripts/install-semantic-model.sh installs, found through `M365_TEST_SEMANTIC_MODEL` or
/// in the project's data folder; nil where it is not installed (its tests are skipped, except in CI, where
/// scripts/test.sh installs it).
package enum InstalledSemanticModel {
    package static let folder: URL? = {
        let environment = ProcessInfo.processInfo.environment
        let candidates = [
            environment["M365_TEST_SEMANTIC_MODEL"].map { URL(fileURLWithPath: $0) },
            URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
                .deletingLastPathComponent().appendingPathComponent("data/models/all-MiniLM-L6-v2"),
        ]
        return candidates.compactMap { $0 }.first {
            FileManager.default.fileExists(atPath: $0.appendingPathComponent("model.safetensors").path)
        }
    }()

    /// In CI the model must be there: a missing model fails instead of skipping.
    package static var requiredButMissing: Bool {
        folder == nil && ProcessInfo.processInfo.environment["CI"] != nil
    }
}

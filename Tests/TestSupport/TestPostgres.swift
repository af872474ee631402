import Foundation

/// The PostgreSQL databases the tests may use, from environment variables `scripts/test.sh` sets.
package enum TestPostgres {
    /// The URL in `variable`; unset and empty both mean "not configured".
    package static func url(_ variable: String) -> String? {
        guard let value = ProcessInfo.processInfo.environment[variable], !value.isEmpty else { return nil }
        return value
    }

    /// Whether this run must not skip the PostgreSQL tests: CI installs PostgreSQL, so a missing URL there is a
    /// broken setup, not a reason to skip.
    package static var isRequired: Bool {
        !(ProcessInfo.processInfo.environment["CI"] ?? "").isEmpty
    }

    /// What a skipped PostgreSQL test says in the output.
    package static func notConfigured(_ variable: String) -> String {
        "\(variable) is not set: PostgreSQL tests skipped (scripts/test.sh starts PostgreSQL when it is installed)"
    }
}

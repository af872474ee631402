import Foundation

/// Reads configuration values: an explicit value (a flag) first, then the environment, then the default.
package struct EnvironmentReader: Sendable {
    private let values: [String: String]

    package init(_ values: [String: String] = ProcessInfo.processInfo.environment) {
        self.values = values
    }

    package func string(_ name: String) -> String? {
        guard let value = values[name], !value.isEmpty else { return nil }
        return value
    }

    package func int(_ name: String) throws -> Int? {
        guard let text = string(name) else { return nil }
        guard let value = Int(text) else {
            throw ConfigurationError.invalid(name: name, value: text, expected: "an integer")
        }
        return value
    }

    package func bool(_ name: String) throws -> Bool? {
        guard let text = string(name)?.lowercased() else { return nil }
        switch text {
        case "1", "true", "yes", "on": return true
        case "0", "false", "no", "off": return false
        default: throw ConfigurationError.invalid(name: name, value: text, expected: "true or false")
        }
    }
}

package enum ConfigurationError: Error, CustomStringConvertible {
    case invalid(name: String, value: String, expected: String)
    case missing(name: String, why: String)

    package var description: String {
        switch self {
        case .invalid(let name, let value, let expected): "\(name)=\(value) is not valid: expected \(expected)"
        case .missing(let name, let why): "\(name) must be set: \(why)"
        }
    }
}

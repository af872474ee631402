import Foundation

/// Loads `KEY=VALUE` lines from `.env` files into the process environment, without overriding variables
/// that are already set. Blank lines and `#` comments are skipped; values may be single- or double-quoted.
package enum DotEnvFile {
    /// Loads each file that exists, in order.
    package static func load(_ files: [URL]) {
        for file in files {
            guard let text = try? String(contentsOf: file, encoding: .utf8) else { continue }
            for (key, value) in parse(text) where getenv(key) == nil {
                setenv(key, value, 0)
            }
        }
    }

    package static func parse(_ text: String) -> [(String, String)] {
        text.split(whereSeparator: \.isNewline).compactMap { rawLine in
            var line = rawLine.trimmingCharacters(in: .whitespaces)
            if line.hasPrefix("export ") { line = String(line.dropFirst("export ".count)) }
            guard !line.isEmpty, !line.hasPrefix("#"), let equals = line.firstIndex(of: "=") else { return nil }
            let key = line[..<equals].trimmingCharacters(in: .whitespaces)
            var value = line[line.index(after: equals)...].trimmingCharacters(in: .whitespaces)
            if value.count >= 2, let first = value.first, first == "\"" || first == "'", value.last == first {
                value = String(value.dropFirst().dropLast())
            }
            guard !key.isEmpty else { return nil }
            return (key, value)
        }
    }
}

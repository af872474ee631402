import Foundation

/// Where a service may send the browser after sign-in or sign-out when the target came from the request:
/// a path on the same origin, nothing a browser could read as another host.
package enum LocalRedirect {
    /// `target` when it is a same-origin relative path, else nil.
    ///
    /// Refused, before and after percent-decoding: anything not starting with a single `/`, a `//` or `/\`
    /// anywhere a browser would take as a host, backslashes, whitespace and control characters (browsers drop
    /// tabs and newlines, so `/%09/evil.example` would become `//evil.example`). A path that starts with one
    /// `/` has no scheme.
    package static func safePath(_ target: String?) -> String? {
        guard let target, !target.isEmpty, target.utf8.count <= 2048 else { return nil }
        guard isSafe(target) else { return nil }
        // A browser (or a server hop) may decode the path once more; the decoded form must be safe too.
        if let decoded = target.removingPercentEncoding, decoded != target {
            guard isSafe(decoded) else { return nil }
            if let twice = decoded.removingPercentEncoding, twice != decoded, !isSafe(twice) { return nil }
        }
        return target
    }

    private static func isSafe(_ path: String) -> Bool {
        let bytes = Array(path.utf8)
        guard bytes.first == UInt8(ascii: "/") else { return false }
        if bytes.count > 1, bytes[1] == UInt8(ascii: "/") || bytes[1] == UInt8(ascii: "\\") { return false }
        for byte in bytes {
            if byte < 0x21 || byte == 0x7f || byte == UInt8(ascii: "\\") { return false }
        }
        // Unicode blanks and controls (U+0085, U+00A0, U+2028 …) are as bad as ASCII ones.
        for scalar in path.unicodeScalars where scalar.value > 0x7f {
            if scalar.properties.isWhitespace || scalar.properties.generalCategory == .control
                || scalar.properties.generalCategory == .format
            {
                return false
            }
        }
        return true
    }
}

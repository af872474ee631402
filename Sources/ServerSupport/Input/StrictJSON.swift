import Foundation

/// What Foundation's JSON parser lets through that RFC 8259 does not, checked before the body is parsed:
/// a trailing comma (`{"a":1,}`, `[1,]`) and nesting deeper than a limit (deep recursion is how a small
/// body exhausts a thread's stack).
package enum StrictJSON {
    package enum Violation: Error, Equatable, Sendable, CustomStringConvertible {
        case trailingComma(offset: Int)
        case tooDeep(limit: Int)

        package var description: String {
            switch self {
            case .trailingComma(let offset): "a comma at byte \(offset) is followed by the end of an object or array"
            case .tooDeep(let limit): "objects and arrays are nested more than \(limit) deep"
            }
        }
    }

    package static let defaultDepthLimit = 64

    /// Scans `bytes` outside strings; the rest of the grammar is left to the parser that follows.
    package static func check(_ bytes: some Collection<UInt8>, depthLimit: Int = defaultDepthLimit) throws(Violation) {
        var depth = 0
        var inString = false
        var escaped = false
        var pendingComma: Int?
        for (offset, byte) in bytes.enumerated() {
            if inString {
                if escaped {
                    escaped = false
                } else if byte == UInt8(ascii: "\\") {
                    escaped = true
                } else if byte == UInt8(ascii: "\"") {
                    inString = false
                }
                continue
            }
            switch byte {
            case UInt8(ascii: " "), UInt8(ascii: "\t"), UInt8(ascii: "\n"), UInt8(ascii: "\r"):
                continue
            case UInt8(ascii: "{"), UInt8(ascii: "["):
                depth += 1
                guard depth <= depthLimit else { throw .tooDeep(limit: depthLimit) }
            case UInt8(ascii: "}"), UInt8(ascii: "]"):
                if let comma = pendingComma { throw .trailingComma(offset: comma) }
                depth -= 1
            case UInt8(ascii: "\""):
                inString = true
            default:
                break
            }
            pendingComma = byte == UInt8(ascii: ",") ? offset : nil
        }
    }
}

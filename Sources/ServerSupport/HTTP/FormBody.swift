import Foundation
import NIOCore

/// `application/x-www-form-urlencoded` bodies, parsed on bytes.
///
/// Token endpoints parse one per request; Vapor's Codable form decoder costs more than the rest of the
/// request handling together, and OAuth forms are flat string fields anyway.
package enum FormBody {
    /// The fields of the body, or nil when it is not valid form encoding (bad `%` escapes, not UTF-8).
    /// A repeated field keeps its first value.
    package static func parse(_ buffer: ByteBuffer) -> [String: String]? {
        parse(buffer.readableBytesView)
    }

    package static func parse<Bytes: Collection<UInt8>>(_ bytes: Bytes) -> [String: String]? {
        var fields: [String: String] = [:]
        for pair in bytes.split(separator: UInt8(ascii: "&"), omittingEmptySubsequences: true) {
            let parts = pair.split(separator: UInt8(ascii: "="), maxSplits: 1, omittingEmptySubsequences: false)
            guard let name = decode(parts[0]), !name.isEmpty else { return nil }
            guard let value = parts.count > 1 ? decode(parts[1]) : "" else { return nil }
            if fields[name] == nil { fields[name] = value }
        }
        return fields
    }

    /// The fields of a URL's query string, never failing: a `%` not followed by two hex digits stays as it is,
    /// and bytes that are not UTF-8 become U+FFFD, as servlet containers decode them. A value carrying such
    /// bytes then matches nothing instead of being dropped (a dropped filter would match everything).
    package static func parseQuery(_ query: String) -> [String: String] {
        var fields: [String: String] = [:]
        for (name, value) in parseQueryPairs(query) where fields[name] == nil { fields[name] = value }
        return fields
    }

    /// Every field of a URL's query string in order, repeated names included (decoded as ``parseQuery(_:)``).
    package static func parseQueryPairs(_ query: String) -> [(name: String, value: String)] {
        var pairs: [(name: String, value: String)] = []
        for pair in query.utf8.split(separator: UInt8(ascii: "&"), omittingEmptySubsequences: true) {
            let parts = pair.split(separator: UInt8(ascii: "="), maxSplits: 1, omittingEmptySubsequences: false)
            let name = decode(parts[0], lenient: true) ?? ""
            guard !name.isEmpty else { continue }
            pairs.append((name, parts.count > 1 ? decode(parts[1], lenient: true) ?? "" : ""))
        }
        return pairs
    }

    /// `fields` form-encoded in order: only unreserved characters stay as they are (RFC 3986 §2.3), so a value's
    /// `+`, `&`, `=` and `/` cannot change what the server reads.
    package static func encode(_ fields: [(String, String)]) -> String {
        var allowed = CharacterSet.alphanumerics
        allowed.insert(charactersIn: "-._~")
        return fields.map { name, value in
            "\(name.addingPercentEncoding(withAllowedCharacters: allowed) ?? "")="
                + (value.addingPercentEncoding(withAllowedCharacters: allowed) ?? "")
        }.joined(separator: "&")
    }

    private static func decode(_ bytes: some Collection<UInt8>, lenient: Bool = false) -> String? {
        var output = [UInt8]()
        output.reserveCapacity(bytes.count)
        var index = bytes.startIndex
        while index != bytes.endIndex {
            let byte = bytes[index]
            switch byte {
            case UInt8(ascii: "+"):
                output.append(UInt8(ascii: " "))
            case UInt8(ascii: "%"):
                let high = bytes.index(after: index)
                let low = high == bytes.endIndex ? high : bytes.index(after: high)
                guard high != bytes.endIndex, low != bytes.endIndex, let h = hexValue(bytes[high]),
                    let l = hexValue(bytes[low])
                else {
                    guard lenient else { return nil }
                    output.append(byte)
                    index = bytes.index(after: index)
                    continue
                }
                output.append(h << 4 | l)
                index = low
            default:
                output.append(byte)
            }
            index = bytes.index(after: index)
        }
        return lenient ? String(decoding: output, as: UTF8.self) : String(validating: output, as: UTF8.self)
    }

    private static func hexValue(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): byte - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): byte - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): byte - UInt8(ascii: "A") + 10
        default: nil
        }
    }
}

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

    private static func decode(_ bytes: some Collection<UInt8>) -> String? {
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
                guard high != bytes.endIndex else { return nil }
                let low = bytes.index(after: high)
                guard low != bytes.endIndex, let h = hexValue(bytes[high]), let l = hexValue(bytes[low]) else {
                    return nil
                }
                output.append(h << 4 | l)
                index = low
            default:
                output.append(byte)
            }
            index = bytes.index(after: index)
        }
        return String(validating: output, as: UTF8.self)
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

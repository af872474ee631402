import Crypto
import Foundation

/// Unguessable strings for secrets, codes and passwords, and their one-way digests for storage.
package enum RandomToken {
    /// `byteCount` random bytes, base64url without padding.
    package static func urlSafe(byteCount: Int = 32) -> String {
        var generator = SystemRandomNumberGenerator()
        var bytes = Data(capacity: byteCount + 8)
        // Eight bytes per draw: each draw is a system call.
        while bytes.count < byteCount {
            withUnsafeBytes(of: generator.next() as UInt64) { bytes.append(contentsOf: $0) }
        }
        return bytes.prefix(byteCount).base64URLEncodedString()
    }

    /// A random string over `alphabet`.
    package static func string(length: Int, alphabet: String) -> String {
        let characters = Array(alphabet)
        var generator = SystemRandomNumberGenerator()
        return String((0..<length).map { _ in characters.randomElement(using: &generator)! })
    }

    /// A password that meets common complexity rules (upper, lower, digit, symbol), 20 characters.
    package static func password() -> String {
        let body = string(length: 16, alphabet: "abcdefghijkmnopqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789")
        return body + string(length: 1, alphabet: "ABCDEFGHJKLMNPQRSTUVWXYZ")
            + string(length: 1, alphabet: "abcdefghijkmnopqrstuvwxyz") + string(length: 1, alphabet: "23456789")
            + string(length: 1, alphabet: "!#%+-=")
    }

    /// Hex SHA-256 of a high-entropy secret. Such secrets need no slow hash: guessing them is hopeless anyway.
    package static func digest(_ secret: String) -> String {
        let hex = Array("0123456789abcdef".utf8)
        var out = [UInt8]()
        out.reserveCapacity(64)
        for byte in SHA256.hash(data: Data(secret.utf8)) {
            out.append(hex[Int(byte >> 4)])
            out.append(hex[Int(byte & 0x0f)])
        }
        return String(decoding: out, as: UTF8.self)
    }
}

extension Data {
    /// RFC 4648 §5 without padding. Works on bytes: Foundation's string replacing is slow on Linux, and
    /// every token is three of these.
    package func base64URLEncodedString() -> String {
        var out = [UInt8]()
        let base64 = base64EncodedData()
        out.reserveCapacity(base64.count)
        for byte in base64 {
            switch byte {
            case UInt8(ascii: "+"): out.append(UInt8(ascii: "-"))
            case UInt8(ascii: "/"): out.append(UInt8(ascii: "_"))
            case UInt8(ascii: "="): continue
            default: out.append(byte)
            }
        }
        return String(decoding: out, as: UTF8.self)
    }

    package init?(base64URLEncoded text: some StringProtocol) {
        var base64 = text.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        base64 += String(repeating: "=", count: (4 - base64.count % 4) % 4)
        self.init(base64Encoded: base64)
    }
}

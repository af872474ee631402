import Foundation

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// An IPv4 or IPv6 address range in CIDR notation (`40.96.0.0/13`, `2603:1006::/40`, or one address), for
/// allow-lists of callers.
package struct AddressRange: Sendable, Equatable, CustomStringConvertible {
    /// 4 bytes (IPv4) or 16 (IPv6).
    let network: [UInt8]
    let prefix: Int

    package var description: String { text }
    private let text: String

    /// Parses `address[/prefix]`; nil for anything else.
    package init?(_ value: String) {
        let trimmed = value.trimmingCharacters(in: .whitespaces)
        guard !trimmed.isEmpty, trimmed.utf8.count <= 64 else { return nil }
        let parts = trimmed.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count <= 2, let bytes = Self.bytes(of: String(parts[0])) else { return nil }
        let maximum = bytes.count * 8
        var prefix = maximum
        if parts.count == 2 {
            guard let given = Int(parts[1]), (0...maximum).contains(given) else { return nil }
            prefix = given
        }
        network = Self.masked(bytes, prefix: prefix)
        self.prefix = prefix
        text = trimmed
    }

    /// Whether `address` (a textual IPv4 or IPv6 address) lies in the range; an IPv4-mapped IPv6 address is
    /// compared as IPv4.
    package func contains(_ address: String) -> Bool {
        guard var bytes = Self.bytes(of: address) else { return false }
        if bytes.count == 16, network.count == 4, bytes.prefix(10).allSatisfy({ $0 == 0 }), bytes[10] == 0xff,
            bytes[11] == 0xff
        {
            bytes = Array(bytes.suffix(4))
        }
        guard bytes.count == network.count else { return false }
        return Self.masked(bytes, prefix: prefix) == network
    }

    private static func masked(_ bytes: [UInt8], prefix: Int) -> [UInt8] {
        var result = bytes
        for index in result.indices {
            let bitsHere = max(0, min(8, prefix - index * 8))
            let mask: UInt8 = bitsHere == 0 ? 0 : UInt8(truncatingIfNeeded: 0xff << (8 - bitsHere))
            result[index] &= mask
        }
        return result
    }

    /// The bytes of a textual address, by the C library's parser (no zone IDs).
    static func bytes(of address: String) -> [UInt8]? {
        guard !address.isEmpty, address.utf8.count <= 45, !address.contains("%") else { return nil }
        var v4 = in_addr()
        if inet_pton(AF_INET, address, &v4) == 1 {
            return withUnsafeBytes(of: &v4) { Array($0) }
        }
        var v6 = in6_addr()
        if inet_pton(AF_INET6, address, &v6) == 1 {
            return withUnsafeBytes(of: &v6) { Array($0) }
        }
        return nil
    }
}

/// A list of ranges; an address is allowed when any range holds it.
package struct AddressAllowList: Sendable, Equatable {
    package let ranges: [AddressRange]

    /// Parses a list separated by commas, spaces or new lines; the entries that are not ranges are returned
    /// too, so a form can name them.
    package static func parse(_ text: String) -> (list: AddressAllowList, invalid: [String]) {
        var ranges: [AddressRange] = []
        var invalid: [String] = []
        for entry in text.split(whereSeparator: { $0 == "," || $0 == " " || $0.isNewline || $0 == "\t" }).prefix(
            1000)
        {
            if let range = AddressRange(String(entry)) { ranges.append(range) } else { invalid.append(String(entry)) }
        }
        return (AddressAllowList(ranges: ranges), invalid)
    }

    package init(ranges: [AddressRange]) { self.ranges = ranges }

    package func allows(_ address: String?) -> Bool {
        guard let address else { return false }
        return ranges.contains { $0.contains(address) }
    }

    package var text: String { ranges.map(\.description).joined(separator: ", ") }
}

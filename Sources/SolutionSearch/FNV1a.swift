/// FNV-1a, 64 bits: a cheap, stable hash of bytes (stable across runs and machines, unlike `Hasher`), for choosing
/// sentences, matching a snippet's words and seeding misspellings. Not for anything an attacker may choose to collide.
struct FNV1a {
    private(set) var value: UInt64 = 0xcbf2_9ce4_8422_2325

    mutating func add(_ byte: UInt8) { value = (value ^ UInt64(byte)) &* 0x100_0000_01b3 }

    static func hash<Bytes: Sequence>(_ bytes: Bytes) -> UInt64 where Bytes.Element == UInt8 {
        var hasher = FNV1a()
        for byte in bytes { hasher.add(byte) }
        return hasher.value
    }
}

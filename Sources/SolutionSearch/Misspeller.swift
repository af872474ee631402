/// Puts typing slips into text, as people make them: a letter dropped, doubled, swapped with the next, or hit on
/// a neighbouring key. Used by `kb eval --misspell` to measure typo tolerance on every labelled query, not only on
/// the few written with typos. Deterministic: the same seed, text and rate give the same slips on every machine.
public struct Misspeller: Sendable {
    /// The share of eligible words (ASCII letters only, four or more) that get one slip; a text with an eligible
    /// word always gets at least one.
    public let rate: Double
    public let seed: UInt64

    public init(rate: Double, seed: UInt64) {
        self.rate = rate.isNaN ? 0 : min(max(rate, 0), 1)
        self.seed = seed
    }

    /// `text` with its slips, and how many words got one.
    public func misspell(_ text: String) -> (text: String, words: Int) {
        var bytes = Array(text.utf8)
        var words: [(start: Int, end: Int, draw: UInt64)] = []
        var start: Int?
        for position in 0...bytes.count {
            let isLetter = position < bytes.count && Self.isLetter(bytes[position])
            let isWordByte = position < bytes.count && bytes[position] >= 0x30 && !Self.isPunctuation(bytes[position])
            if isLetter, start == nil { start = position }
            if !isLetter, let first = start {
                start = nil
                // A letter run glued to digits or non-ASCII (`0x8004`, `café`) is a code or a name: left alone.
                let gluedBefore = first > 0 && bytes[first - 1] >= 0x30 && !Self.isPunctuation(bytes[first - 1])
                guard position - first >= 4, !gluedBefore, !isWordByte else { continue }
                var hasher = FNV1a()
                for shift in stride(from: 0, to: 64, by: 8) { hasher.add(UInt8(truncatingIfNeeded: seed >> shift)) }
                for byte in bytes[first..<position] { hasher.add(byte) }
                hasher.add(UInt8(truncatingIfNeeded: words.count))
                words.append((first, position, Self.mix(hasher.value)))
            }
        }
        guard !words.isEmpty, rate > 0 else { return (text, 0) }
        let threshold = UInt64(rate * Double(UInt32.max))
        var chosen = words.indices.filter { words[$0].draw & 0xFFFF_FFFF < threshold }
        if chosen.isEmpty,
            let least = words.indices.min(by: { words[$0].draw & 0xFFFF_FFFF < words[$1].draw & 0xFFFF_FFFF })
        {
            chosen = [least]
        }
        // From the last word back, so the earlier words' offsets hold while the text changes length.
        for index in chosen.reversed() {
            let (first, end, draw) = words[index]
            bytes.replaceSubrange(first..<end, with: Self.slip(Array(bytes[first..<end]), draw: draw >> 32))
        }
        return (String(decoding: bytes, as: UTF8.self), chosen.count)
    }

    /// One slip in `word` (four or more ASCII letters); its first letter is kept, as people rarely miss it.
    static func slip(_ word: [UInt8], draw: UInt64) -> [UInt8] {
        var result = word
        let position = 1 + Int((draw >> 2) % UInt64(word.count - 1))
        switch draw & 3 {
        case 0:
            result.insert(word[position], at: position)
        case 1 where position + 1 < word.count && word[position] != word[position + 1]:
            result.swapAt(position, position + 1)
        case 2:
            let lower = word[position] | 0x20
            if let keys = neighbours[lower], !keys.isEmpty {
                let key = keys[Int((draw >> 8) % UInt64(keys.count))]
                result[position] = word[position] == lower ? key : key & ~0x20
                return result
            }
            result.remove(at: position)
        default:
            result.remove(at: position)
        }
        return result
    }

    private static func isLetter(_ byte: UInt8) -> Bool { (byte | 0x20) >= 97 && (byte | 0x20) <= 122 }

    private static func isPunctuation(_ byte: UInt8) -> Bool {
        (byte >= 0x3A && byte <= 0x40) || (byte >= 0x5B && byte <= 0x60) || (byte >= 0x7B && byte <= 0x7F)
    }

    /// SplitMix64's finaliser: FNV-1a's low bits alone are too regular for a draw.
    private static func mix(_ value: UInt64) -> UInt64 {
        var z = value &+ 0x9E37_79B9_7F4A_7C15
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// Keys beside each letter on a US QWERTY keyboard.
    private static let neighbours: [UInt8: [UInt8]] = {
        let rows = ["qwertyuiop", "asdfghjkl", "zxcvbnm"].map { Array($0.utf8) }
        var table: [UInt8: [UInt8]] = [:]
        for (row, keys) in rows.enumerated() {
            for (column, key) in keys.enumerated() {
                var near: [UInt8] = []
                if column > 0 { near.append(keys[column - 1]) }
                if column + 1 < keys.count { near.append(keys[column + 1]) }
                // Each row sits half a key right of the one above it.
                for (other, offsets) in [(row - 1, [0, 1]), (row + 1, [-1, 0])] where rows.indices.contains(other) {
                    for offset in offsets where rows[other].indices.contains(column + offset) {
                        near.append(rows[other][column + offset])
                    }
                }
                table[key] = near
            }
        }
        return table
    }()
}

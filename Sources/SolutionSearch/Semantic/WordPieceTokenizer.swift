import Foundation

/// BERT's uncased tokenizer: text cleaned, lower-cased and stripped of accents, split at white space and
/// around punctuation and CJK characters, then each word cut into the longest vocabulary pieces from its start
/// (`##` marks a piece that continues a word).
struct WordPieceTokenizer: Sendable {
    let vocabulary: [String: Int32]
    let unknown: Int32
    let classification: Int32
    let separator: Int32
    /// The pieces as a trie, so that a word's longest piece is found in one walk instead of by looking up every
    /// shorter candidate string: (node << 21 | scalar) → child node; node 0 starts a word, node 1 continues one
    /// (the `##` pieces, without their mark).
    let children: [UInt64: Int32]
    /// The piece that ends at each node, or -1.
    let pieceAt: [Int32]

    static let maxWordLength = 100

    init(vocabularyFile: URL) throws {
        let text = try String(contentsOf: vocabularyFile, encoding: .utf8)
        var vocabulary: [String: Int32] = [:]
        for (number, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated()
        where !line.isEmpty {
            vocabulary[String(line.hasSuffix("\r") ? line.dropLast() : line)] = Int32(number)
        }
        guard let unknown = vocabulary["[UNK]"], let classification = vocabulary["[CLS]"],
            let separator = vocabulary["[SEP]"]
        else { throw SemanticModelError("\(vocabularyFile.lastPathComponent) lacks [UNK], [CLS] or [SEP]") }
        var children: [UInt64: Int32] = [:]
        var pieceAt: [Int32] = [-1, -1]
        for (piece, token) in vocabulary {
            let continues = piece.hasPrefix("##") && piece.count > 2
            var node: Int32 = continues ? 1 : 0
            for scalar in (continues ? String(piece.dropFirst(2)) : piece).unicodeScalars {
                let key = UInt64(node) << 21 | UInt64(scalar.value)
                if let child = children[key] {
                    node = child
                } else {
                    let child = Int32(pieceAt.count)
                    children[key] = child
                    pieceAt.append(-1)
                    node = child
                }
            }
            pieceAt[Int(node)] = token
        }
        self.children = children
        self.pieceAt = pieceAt
        self.vocabulary = vocabulary
        self.unknown = unknown
        self.classification = classification
        self.separator = separator
    }

    /// `[CLS]`, the text's pieces (cut to fit), `[SEP]`: at most `limit` tokens.
    func tokens(_ text: String, limit: Int) -> [Int32] {
        var tokens: [Int32] = [classification]
        let room = max(0, limit - 2)
        for word in Self.words(text) {
            guard tokens.count - 1 < room else { break }
            tokens.append(contentsOf: pieces(word).prefix(room - (tokens.count - 1)))
        }
        tokens.append(separator)
        return tokens
    }

    /// The basic tokenizer's words.
    static func words(_ text: String) -> [[Unicode.Scalar]] {
        var words: [[Unicode.Scalar]] = []
        var current: [Unicode.Scalar] = []
        func flush() {
            if !current.isEmpty { words.append(current) }
            current.removeAll(keepingCapacity: true)
        }
        // Most text is ASCII: already lower-cased and decomposed byte by byte, without Unicode tables.
        if text.utf8.allSatisfy({ $0 < 0x80 }) {
            for byte in text.utf8 {
                switch byte {
                case 9...13, 32: flush()
                case 0...31, 127: continue
                case 65...90: current.append(Unicode.Scalar(byte + 32))
                case 33...47, 58...64, 91...96, 123...126:
                    flush()
                    words.append([Unicode.Scalar(byte)])
                default: current.append(Unicode.Scalar(byte))
                }
            }
            flush()
            return words
        }
        return unicodeWords(text)
    }

    /// The basic tokenizer's words of any text (``words(_:)`` takes a shortcut for ASCII).
    static func unicodeWords(_ text: String) -> [[Unicode.Scalar]] {
        var words: [[Unicode.Scalar]] = []
        var current: [Unicode.Scalar] = []
        func flush() {
            if !current.isEmpty { words.append(current) }
            current.removeAll(keepingCapacity: true)
        }
        for scalar in text.lowercased().decomposedStringWithCanonicalMapping.unicodeScalars {
            let value = scalar.value
            let category = scalar.properties.generalCategory
            if value == 0 || value == 0xFFFD { continue }
            if scalar.properties.isWhitespace || value == 9 || value == 10 || value == 13 {
                flush()
            } else if category == .control || category == .format {
                continue
            } else if category == .nonspacingMark {
                continue
            } else if isPunctuation(scalar) || isCJK(value) {
                flush()
                words.append([scalar])
            } else {
                current.append(scalar)
            }
        }
        flush()
        return words
    }

    static func isPunctuation(_ scalar: Unicode.Scalar) -> Bool {
        let value = scalar.value
        if (33...47).contains(value) || (58...64).contains(value) || (91...96).contains(value)
            || (123...126).contains(value)
        {
            return true
        }
        switch scalar.properties.generalCategory {
        case .connectorPunctuation, .dashPunctuation, .openPunctuation, .closePunctuation, .initialPunctuation,
            .finalPunctuation, .otherPunctuation:
            return true
        default: return false
        }
    }

    static func isCJK(_ value: UInt32) -> Bool {
        (0x4E00...0x9FFF).contains(value) || (0x3400...0x4DBF).contains(value) || (0x20000...0x2A6DF).contains(value)
            || (0x2A700...0x2B73F).contains(value) || (0x2B740...0x2B81F).contains(value)
            || (0x2B820...0x2CEAF).contains(value) || (0xF900...0xFAFF).contains(value)
            || (0x2F800...0x2FA1F).contains(value)
    }

    /// Longest vocabulary pieces first; a word with a part no piece covers is one `[UNK]`.
    func pieces(_ word: [Unicode.Scalar]) -> [Int32] {
        guard word.count <= Self.maxWordLength else { return [unknown] }
        var pieces: [Int32] = []
        var start = 0
        while start < word.count {
            var node: Int32 = start > 0 ? 1 : 0
            var found: (end: Int, token: Int32)?
            var index = start
            while index < word.count, let child = children[UInt64(node) << 21 | UInt64(word[index].value)] {
                node = child
                index += 1
                if pieceAt[Int(node)] >= 0 { found = (index, pieceAt[Int(node)]) }
            }
            guard let found else { return [unknown] }
            pieces.append(found.token)
            start = found.end
        }
        return pieces
    }
}

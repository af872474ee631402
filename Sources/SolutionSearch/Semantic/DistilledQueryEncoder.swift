import CEncoderKernels
import Foundation

/// A query encoder a hundred times cheaper than the sentence encoder, learned from it: one vector per word piece,
/// chosen (least squares, ``CEncoderKernels/ek_distill``) so that the mean of a text's pieces comes as near as
/// it can to the sentence encoder's vector of that text, over thousands of sentences of the knowledge base
/// (``trainingTexts(of:)``). Articles keep the sentence encoder's vectors; only the query, encoded on every
/// search, takes the shortcut — a sum of a few dozen rows instead of six transformer layers (docs/search.md,
/// experiment 25: within noise of the full encoder's ranking).
public struct DistilledQueryEncoder: Sendable {
    /// Word-piece number → row in `rows`, -1 for pieces no training text held (left out).
    let rowOf: [Int32]
    /// One vector per known piece, row by row, as halves (``CEncoderKernels/ek_to_f16``).
    let rows: [UInt16]
    let dimensions: Int
    let tokenizer: WordPieceTokenizer
    /// How many texts it learned from.
    public let trainedOn: Int
    /// The sentence encoder it learned from (``SentenceEncoder/modelName``): only that one's article vectors suit it.
    public let modelName: String
    /// How many word pieces it has a vector for, and the bytes those vectors take.
    public var pieceCount: Int { dimensions > 0 ? rows.count / dimensions : 0 }
    public var bytes: Int { rows.count * MemoryLayout<UInt16>.size + rowOf.count * MemoryLayout<Int32>.size }

    /// Fewer training texts than this learn too little vocabulary: the sentence encoder then encodes queries
    /// (a knowledge base of a few dozen articles has a few hundred sentences).
    public static let minimumTexts = 2000
    /// At most this many training texts (chosen by a hash of their text, so a change of a few articles keeps
    /// most of the choice): the encoder reads each one once; more changed the ranking by less than noise.
    public static let maximumTexts = 20000
    static let iterations = Int32(SolutionIndex.tuning("SS_DISTILL_STEPS")?.first ?? 40)
    static let lambda = Float(SolutionIndex.tuning("SS_DISTILL_LAMBDA")?.first ?? 1e-4)

    /// Learns from `texts` and their vectors from `encoder` (query-length: ``SentenceEncoder/maxQueryTokens``);
    /// nil when there are fewer than `minimum` usable texts or memory runs out. Seconds of CPU for the maximum:
    /// call it off the cooperative pool.
    public init?(
        encoder: SentenceEncoder, texts: [(text: String, vector: [Float])], minimum: Int = minimumTexts
    ) {
        let dimensions = encoder.dimensions
        var rowOf: [Int32: Int32] = [:]
        var offsets: [Int32] = [0]
        var tokens: [Int32] = []
        var targets: [Float] = []
        for (text, vector) in texts where vector.count == dimensions {
            let pieces = Self.pieces(of: text, tokenizer: encoder.tokenizer)
            guard !pieces.isEmpty, tokens.count + pieces.count < Int(Int32.max) else { continue }
            for piece in pieces {
                let row = rowOf[piece] ?? Int32(rowOf.count)
                rowOf[piece] = row
                tokens.append(row)
            }
            offsets.append(Int32(tokens.count))
            targets.append(contentsOf: vector)
        }
        let count = offsets.count - 1
        guard count >= max(1, minimum), dimensions > 0 else { return nil }
        var rows = [Float](repeating: 0, count: rowOf.count * dimensions)
        let status = rows.withUnsafeMutableBufferPointer { rows in
            ek_distill(
                offsets, tokens, count, targets, dimensions, rowOf.count, Self.lambda, Self.iterations,
                rows.baseAddress)
        }
        guard status == 0 else { return nil }
        var table = [Int32](repeating: -1, count: Int(rowOf.keys.max() ?? 0) + 1)
        for (piece, row) in rowOf where piece >= 0 { table[Int(piece)] = row }
        self.rowOf = table
        var halves = [UInt16](repeating: 0, count: rows.count)
        halves.withUnsafeMutableBufferPointer { ek_to_f16(rows, rows.count, $0.baseAddress) }
        self.rows = halves
        self.dimensions = dimensions
        self.tokenizer = encoder.tokenizer
        self.trainedOn = count
        self.modelName = encoder.modelName
    }

    /// A text's word pieces as the sentence encoder reads a query (without `[CLS]` and `[SEP]`, which every text
    /// has).
    static func pieces(of text: String, tokenizer: WordPieceTokenizer) -> [Int32] {
        Array(
            tokenizer.tokens(
                String(text.prefix(SentenceEncoder.maxQueryCharacters)), limit: SentenceEncoder.maxQueryTokens
            ).dropFirst().dropLast())
    }

    /// Whether every word piece of `text` has a vector: a text with a piece it lacks would teach it something new.
    public func knowsEveryPiece(of text: String) -> Bool {
        Self.pieces(of: text, tokenizer: tokenizer).allSatisfy { piece in
            piece >= 0 && Int(piece) < rowOf.count && rowOf[Int(piece)] >= 0
        }
    }

    /// Whether an encoder learned from `learned` training texts still serves for the texts of `now` (the same
    /// choice, ``trainingTexts(of:limit:)``, made again after the knowledge base changed): at most a tenth of them
    /// differ and it knows every word piece of those added. Learning again costs seconds of CPU and reading every
    /// text's vector; a few changed sentences move its vectors by less than the noise of the ranking, but a new
    /// word would be left out of every query until it learns again. Also the texts added, whose vectors the next
    /// learning needs.
    public func serves(learnedFrom learned: Set<String>, now: [String]) -> (serves: Bool, added: [String]) {
        let added = now.filter { !learned.contains($0) }
        let kept = now.count - added.count
        let changed = added.count + max(0, learned.count - kept)
        guard changed * 10 <= learned.count else { return (false, added) }
        return (added.allSatisfy { knowsEveryPiece(of: $0) }, added)
    }

    /// The unit vector of `text`: the mean of its known pieces' rows, normalised; nil when it has none.
    public func encode(_ text: String) -> [Float]? {
        let known = Self.pieces(of: text, tokenizer: tokenizer).compactMap { piece -> Int32? in
            guard piece >= 0, Int(piece) < rowOf.count, rowOf[Int(piece)] >= 0 else { return nil }
            return rowOf[Int(piece)]
        }
        guard !known.isEmpty else { return nil }
        var sum = [Float](repeating: 0, count: dimensions)
        sum.withUnsafeMutableBufferPointer { ek_add_rows_f16(rows, known, known.count, dimensions, $0.baseAddress) }
        let norm = sum.reduce(0) { $0 + $1 * $1 }.squareRoot()
        guard norm > 0, norm.isFinite else { return nil }
        return sum.map { $0 / norm }
    }

    /// What a stored encoder was learned with besides its sentences and model: change it with the learning (its
    /// steps, its ridge, what ``pieces(of:tokenizer:)`` reads), so that an encoder learned the old way is learned
    /// again rather than reused.
    public static var learningVersion: String { "1 steps \(iterations) ridge \(lambda)" }

    private static let magic = Array("DQE1".utf8)

    /// The learned vectors as bytes, to be stored and read back by ``init(serialized:encoder:)``
    /// (the model's name is the caller's to keep beside them).
    public func serialized() -> Data {
        var data = Data(Self.magic)
        for value in [dimensions, trainedOn, rowOf.count, rows.count] {
            withUnsafeBytes(of: UInt32(clamping: value).littleEndian) { data.append(contentsOf: $0) }
        }
        for value in rowOf { withUnsafeBytes(of: value.littleEndian) { data.append(contentsOf: $0) } }
        for value in rows { withUnsafeBytes(of: value.littleEndian) { data.append(contentsOf: $0) } }
        return data
    }

    /// An encoder stored by ``serialized()`` for `encoder`'s model; nil when the bytes are not one, or not for
    /// an encoder of its size and vocabulary.
    public init?(serialized data: Data, encoder: SentenceEncoder) {
        let bytes = [UInt8](data)
        guard bytes.count >= 20, Array(bytes[0..<4]) == Self.magic else { return nil }
        func number(at offset: Int) -> Int {
            Int(bytes[offset]) | Int(bytes[offset + 1]) << 8 | Int(bytes[offset + 2]) << 16 | Int(bytes[offset + 3])
                << 24
        }
        let dimensions = number(at: 4)
        let trainedOn = number(at: 8)
        let tableCount = number(at: 12)
        let rowCount = number(at: 16)
        // The table has a place per word piece of the vocabulary at most; the rows, a vector per known piece.
        guard dimensions == encoder.dimensions, dimensions > 0, tableCount <= encoder.tokenizer.vocabulary.count + 1,
            rowCount % dimensions == 0, bytes.count == 20 + tableCount * 4 + rowCount * 2
        else { return nil }
        let pieces = rowCount / dimensions
        var table = [Int32](repeating: -1, count: tableCount)
        for index in 0..<tableCount {
            let row = Int32(truncatingIfNeeded: UInt32(number(at: 20 + index * 4)))
            guard row >= -1, row < pieces else { return nil }
            table[index] = row
        }
        let start = 20 + tableCount * 4
        var rows = [UInt16](repeating: 0, count: rowCount)
        for index in 0..<rowCount {
            rows[index] = UInt16(bytes[start + index * 2]) | UInt16(bytes[start + index * 2 + 1]) << 8
        }
        self.rowOf = table
        self.rows = rows
        self.dimensions = dimensions
        self.tokenizer = encoder.tokenizer
        self.trainedOn = trainedOn
        self.modelName = encoder.modelName
    }

    /// The texts a query encoder learns from: each article's title and description, the sentences of its
    /// symptoms, cause, resolution and body, and pairs of adjacent symptom sentences (a ticket often has two) —
    /// the knowledge base's own language, the way problems are described in it. Cleaned (list and table marks
    /// off, at most 60 words), without lines mostly of symbols (code, numbers) and repeats, at most `limit`,
    /// chosen by a hash of the text.
    public static func trainingTexts(of articles: [Article], limit: Int = maximumTexts) -> [String] {
        guard limit > 0 else { return [] }
        // The `limit` texts of the smallest hashes (of the lower-cased text, so repeats that differ in case are
        // one): a knowledge base of 50,000 articles has millions of sentences, and only the chosen ones are held.
        var chosen = BestOf<SmallestHash>(capacity: limit)
        var kept: Set<UInt64> = []
        var scratch: [UInt8] = []
        for article in articles {
            candidates(of: article, scratch: &scratch, wanting: { !kept.contains($0) && chosen.wouldKeep(($0, "")) }) {
                let (entered, pushedOut) = chosen.offer(($0, $1))
                if entered { kept.insert($0) }
                if let pushedOut { kept.remove(pushedOut.hash) }
            }
        }
        return chosen.sorted().map(\.text)
    }

    /// Each training text of `article` in order — its title, description, the sentences of its symptoms, cause,
    /// resolution and body, then pairs of adjacent symptom sentences — as the hash of its lower-cased text and, when
    /// `wanting` that hash, the text, to `take`. (Most text is ASCII: bytes then give the same text as characters,
    /// at a tenth of the cost, and no string is made for a text not wanted.)
    static func candidates(
        of article: Article, scratch: inout [UInt8], wanting: (UInt64) -> Bool, take: (UInt64, String) -> Void
    ) {
        func add(_ raw: Substring) {
            if let ascii = cleanASCII(raw, into: &scratch) {
                guard let (bytes, hash) = ascii, wanting(hash) else { return }
                take(hash, String(decoding: bytes, as: UTF8.self))
            } else {
                guard let cleaned = clean(raw) else { return }
                let hash = FNV1a.hash(cleaned.lowercased().utf8)
                guard wanting(hash) else { return }
                take(hash, cleaned)
            }
        }
        add(Substring(article.title))
        add(Substring(article.description))
        for field in [article.symptoms, article.cause, article.resolution, article.body] {
            for line in lines(field) {
                for sentence in sentences(line) { add(sentence) }
            }
        }
        let detail = article.symptoms.isEmpty ? String(article.body.prefix(1500)) : article.symptoms
        let symptoms = lines(detail).flatMap(sentences).filter { wordCount($0, moreThan: 3) }
        for (first, second) in zip(symptoms, symptoms.dropFirst()) { add(Substring("\(first) \(second)")) }
    }

    /// A sentence as a training text — its first 60 words joined by single spaces, list and table marks off both
    /// ends — or nil when it has fewer than three words or less than 60 % letters.
    static func clean(_ raw: Substring) -> String? {
        let words = raw.split(whereSeparator: \.isWhitespace)
        guard words.count >= 3 else { return nil }
        var text = words.prefix(60).joined(separator: " ")
        let marks: Set<Character> = [" ", "-", "*", "|", "#", ">"]
        while let first = text.first, marks.contains(first) { text.removeFirst() }
        while let last = text.last, marks.contains(last) { text.removeLast() }
        let letters = text.unicodeScalars.reduce(0) { $0 + (CharacterSet.letters.contains($1) ? 1 : 0) }
        guard text.split(separator: " ").count >= 3, letters * 10 >= text.unicodeScalars.count * 6 else { return nil }
        return text
    }

    /// ``clean(_:)`` for ASCII text, in bytes (into `scratch`), with the FNV-1a hash of the lower-cased text: nil
    /// when `raw` is not ASCII, `.some(nil)` when it is no training text.
    static func cleanASCII(_ raw: Substring, into scratch: inout [UInt8]) -> ([UInt8], UInt64)?? {
        // Over the string's own bytes: stepping a substring's UTF-8 view byte by byte was most of the time.
        if let cleaned = raw.utf8.withContiguousStorageIfAvailable({ cleanASCII(bytes: $0, into: &scratch) }) {
            return cleaned
        }
        return Array(raw.utf8).withUnsafeBufferPointer { cleanASCII(bytes: $0, into: &scratch) }
    }

    private static func cleanASCII(bytes raw: UnsafeBufferPointer<UInt8>, into scratch: inout [UInt8]) -> (
        [UInt8], UInt64
    )?? {
        scratch.removeAll(keepingCapacity: true)
        func isSpace(_ byte: UInt8) -> Bool { byte == 32 || (byte >= 9 && byte <= 13) }
        var words = 0
        var index = 0
        // Word by word up to the 60th, each copied whole; the rest must still be ASCII, as the character path
        // judges the whole text.
        while index < raw.count {
            while index < raw.count, isSpace(raw[index]) { index += 1 }
            guard index < raw.count else { break }
            let start = index
            while index < raw.count, !isSpace(raw[index]) {
                if raw[index] >= 0x80 { return nil }
                index += 1
            }
            words += 1
            if words > 60 { break }
            if words > 1 { scratch.append(32) }
            scratch.append(contentsOf: UnsafeBufferPointer(rebasing: raw[start..<index]))
        }
        while index < raw.count {
            if raw[index] >= 0x80 { return nil }
            index += 1
        }
        guard words >= 3 else { return .some(nil) }
        func isMark(_ byte: UInt8) -> Bool {
            byte == 32 || byte == 45 || byte == 42 || byte == 124 || byte == 35 || byte == 62
        }
        var start = 0
        var end = scratch.count
        while start < end, isMark(scratch[start]) { start += 1 }
        while end > start, isMark(scratch[end - 1]) { end -= 1 }
        let text = scratch[start..<end]
        var letters = 0
        var pieces = 0
        var previous: UInt8 = 32
        var hash = FNV1a()
        for byte in text {
            let lower = byte >= 65 && byte <= 90 ? byte + 32 : byte
            if lower >= 97 && lower <= 122 { letters += 1 }
            if byte != 32 && previous == 32 { pieces += 1 }
            previous = byte
            hash.add(lower)
        }
        guard pieces >= 3, letters * 10 >= text.count * 6 else { return .some(nil) }
        return (Array(text), hash.value)
    }

    /// Weaker: a larger hash (the smallest are kept).
    enum SmallestHash: Ranking {
        static func weaker(_ a: (hash: UInt64, text: String), _ b: (hash: UInt64, text: String)) -> Bool {
            a.hash > b.hash
        }
    }

    /// The lines of `text` as `split(separator: "\n")` gives them: a `\r\n` is one character, no line break.
    static func lines(_ text: String) -> [Substring] {
        let cuts: [Int]? =
            text.utf8.withContiguousStorageIfAvailable { bytes in
                // Offsets of line starts and ends, pairwise; nil when the text is not ASCII.
                var cuts: [Int] = []
                var start = 0
                var previous: UInt8 = 0
                for index in 0..<bytes.count {
                    let byte = bytes[index]
                    if byte >= 0x80 { return nil }
                    if byte == 10, previous != 13 {
                        if start < index { cuts += [start, index] }
                        start = index + 1
                    }
                    previous = byte
                }
                if start < bytes.count { cuts += [start, bytes.count] }
                return cuts
            } ?? nil
        guard let cuts else { return text.split(separator: "\n") }
        let utf8 = text.utf8
        return stride(from: 0, to: cuts.count, by: 2).map { pair in
            text[
                utf8.index(
                    utf8.startIndex, offsetBy: cuts[pair])..<utf8.index(utf8.startIndex, offsetBy: cuts[pair + 1])]
        }
    }

    /// Whether `text` has more than `count` words (runs without white space).
    static func wordCount(_ text: Substring, moreThan count: Int) -> Bool {
        guard text.utf8.allSatisfy({ $0 < 0x80 }) else {
            return text.split(whereSeparator: \.isWhitespace).count > count
        }
        var words = 0
        var inWord = false
        for byte in text.utf8 {
            if byte == 32 || (byte >= 9 && byte <= 13) {
                inWord = false
            } else if !inWord {
                inWord = true
                words += 1
            }
        }
        return words > count
    }

    /// A line cut after `.`, `!` or `?` followed by white space.
    static func sentences(_ line: Substring) -> [Substring] {
        let cuts: [Int]? =
            line.utf8.withContiguousStorageIfAvailable { bytes in
                // Offsets where a sentence ends (after its mark); nil when the line is not ASCII.
                var cuts: [Int] = []
                for index in 0..<bytes.count {
                    let byte = bytes[index]
                    if byte >= 0x80 { return nil }
                    if byte == 46 || byte == 33 || byte == 63, index + 1 < bytes.count {
                        let following = bytes[index + 1]
                        if following == 32 || (following >= 9 && following <= 13) { cuts.append(index + 1) }
                    }
                }
                return cuts
            } ?? nil
        if let cuts {
            let utf8 = line.utf8
            var parts: [Substring] = []
            parts.reserveCapacity(cuts.count + 1)
            var start = line.startIndex
            for cut in cuts {
                let end = utf8.index(utf8.startIndex, offsetBy: cut)
                parts.append(line[start..<end])
                start = end
            }
            if start < line.endIndex { parts.append(line[start...]) }
            return parts
        }
        var parts: [Substring] = []
        var start = line.startIndex
        var index = line.startIndex
        while index < line.endIndex {
            let next = line.index(after: index)
            if ".!?".contains(line[index]), next < line.endIndex, line[next].isWhitespace {
                parts.append(line[start..<next])
                start = next
            }
            index = next
        }
        if start < line.endIndex { parts.append(line[start...]) }
        return parts
    }
}

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
    }

    /// A text's word pieces as the sentence encoder reads a query (without `[CLS]` and `[SEP]`, which every text
    /// has).
    static func pieces(of text: String, tokenizer: WordPieceTokenizer) -> [Int32] {
        Array(tokenizer.tokens(String(text.prefix(4000)), limit: SentenceEncoder.maxQueryTokens).dropFirst().dropLast())
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
        func add(_ raw: Substring) {
            let words = raw.split(whereSeparator: \.isWhitespace)
            guard words.count >= 3 else { return }
            var text = words.prefix(60).joined(separator: " ")
            let marks: Set<Character> = [" ", "-", "*", "|", "#", ">"]
            while let first = text.first, marks.contains(first) { text.removeFirst() }
            while let last = text.last, marks.contains(last) { text.removeLast() }
            let letters = text.unicodeScalars.reduce(0) { $0 + (CharacterSet.letters.contains($1) ? 1 : 0) }
            guard text.split(separator: " ").count >= 3, letters * 10 >= text.unicodeScalars.count * 6 else { return }
            let hash = fnv1a(text.lowercased())
            guard !kept.contains(hash) else { return }
            let (entered, pushedOut) = chosen.offer((hash, text))
            if entered { kept.insert(hash) }
            if let pushedOut { kept.remove(pushedOut.hash) }
        }
        for article in articles {
            add(Substring(article.title))
            add(Substring(article.description))
            for field in [article.symptoms, article.cause, article.resolution, article.body] {
                for line in field.split(separator: "\n") {
                    for sentence in sentences(line) { add(sentence) }
                }
            }
            let detail = article.symptoms.isEmpty ? String(article.body.prefix(1500)) : article.symptoms
            let symptoms = detail.split(separator: "\n").flatMap(sentences).filter {
                $0.split(whereSeparator: \.isWhitespace).count > 3
            }
            for (first, second) in zip(symptoms, symptoms.dropFirst()) { add(Substring("\(first) \(second)")) }
        }
        return chosen.sorted().map(\.text)
    }

    /// Weaker: a larger hash (the smallest are kept).
    enum SmallestHash: Ranking {
        static func weaker(_ a: (hash: UInt64, text: String), _ b: (hash: UInt64, text: String)) -> Bool {
            a.hash > b.hash
        }
    }

    /// A line cut after `.`, `!` or `?` followed by white space.
    static func sentences(_ line: Substring) -> [Substring] {
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

    static func fnv1a(_ text: String) -> UInt64 {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in text.utf8 { hash = (hash ^ UInt64(byte)) &* 0x100_0000_01b3 }
        return hash
    }
}

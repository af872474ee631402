import CEncoderKernels
import Foundation
import TestSupport
import Testing

@testable import SolutionSearch

/// The query encoder learned from the sentence encoder: the least-squares solution its kernel claims, the texts it
/// learns from, the vectors it gives, and the parts made faster for it (the tokenizer's trie and ASCII path, the
/// best-N heap, the candidates' dot products).
@Suite struct DistilledQueryEncoderTests {
    /// Σ over texts of ‖mean of the text's rows − target‖², in Double.
    static func loss(
        _ rows: [Float], texts: [[Int32]], targets: [[Float]], dims: Int, lambda: Double
    ) -> Double {
        var total = 0.0
        let vocab = Int32(rows.count / dims)
        for (text, target) in zip(texts, targets) {
            // As the kernel: pieces out of range are skipped, and a text without any is no term.
            let text = text.filter { (0..<vocab).contains($0) }
            guard !text.isEmpty else { continue }
            for d in 0..<dims {
                let mean = text.reduce(0.0) { $0 + Double(rows[Int($1) * dims + d]) } / Double(text.count)
                total += (mean - Double(target[d])) * (mean - Double(target[d]))
            }
        }
        return total + lambda * rows.reduce(0.0) { $0 + Double($1) * Double($1) }
    }

    static func distill(
        texts: [[Int32]], targets: [[Float]], dims: Int, vocab: Int, lambda: Float, iterations: Int32
    ) -> [Float] {
        var offsets: [Int32] = [0]
        var tokens: [Int32] = []
        for text in texts {
            tokens += text
            offsets.append(Int32(tokens.count))
        }
        var rows = [Float](repeating: .nan, count: vocab * dims)
        let status = rows.withUnsafeMutableBufferPointer {
            ek_distill(
                offsets, tokens, texts.count, targets.flatMap { $0 }, dims, vocab, lambda, iterations, $0.baseAddress)
        }
        #expect(status == 0)
        return rows
    }

    @Test func theKernelFindsTheLeastSquaresRows() {
        var random = SeededRandom(seed: 25)
        let (vocab, dims) = (12, 5)
        // Texts of 1–6 pieces, targets from hidden rows plus noise: more texts than unknowns, no exact answer.
        let hidden = (0..<vocab * dims).map { _ in Float.random(in: -1...1, using: &random) }
        var texts: [[Int32]] = []
        var targets: [[Float]] = []
        for _ in 0..<80 {
            let text = (0..<Int.random(in: 1...6, using: &random)).map { _ in
                Int32.random(in: 0..<Int32(vocab), using: &random)
            }
            texts.append(text)
            targets.append(
                (0..<dims).map { d in
                    text.reduce(Float(0)) { $0 + hidden[Int($1) * dims + d] } / Float(text.count)
                        + Float.random(in: -0.1...0.1, using: &random)
                })
        }
        // An empty text and a piece out of range are skipped, not read.
        texts.append([])
        targets.append([Float](repeating: 9, count: dims))
        texts.append([Int32(vocab), -1])
        targets.append([Float](repeating: 9, count: dims))
        let lambda: Float = 1e-3
        let solved = Self.distill(
            texts: texts, targets: targets, dims: dims, vocab: vocab, lambda: lambda, iterations: 60)
        #expect(solved.allSatisfy { $0.isFinite })
        let best = Self.loss(solved, texts: texts, targets: targets, dims: dims, lambda: Double(lambda))
        // At the minimum every nudge of one value raises the loss, and the start (no steps) is worse.
        let start = Self.distill(
            texts: texts, targets: targets, dims: dims, vocab: vocab, lambda: lambda, iterations: 0)
        #expect(Self.loss(start, texts: texts, targets: targets, dims: dims, lambda: Double(lambda)) > best * 1.01)
        for cell in stride(from: 0, to: vocab * dims, by: 7) {
            for step: Float in [-0.01, 0.01] {
                var nudged = solved
                nudged[cell] += step
                #expect(Self.loss(nudged, texts: texts, targets: targets, dims: dims, lambda: Double(lambda)) > best)
            }
        }
        // Near the hidden rows the noise allows.
        let error = zip(solved, hidden).map { abs($0 - $1) }.max() ?? 1
        #expect(error < 0.2)
    }

    @Test func halvesRoundAsIEEESays() {
        var values: [Float] = [
            0, -0, 1, -1, 0.1, 65504, 65519, 65520, -70000, 1e-5, 6.0e-8, 5.96e-8, 2.98e-8, 2.99e-8, 1e-9,
            .infinity, -.infinity, .leastNonzeroMagnitude, .greatestFiniteMagnitude, 6.1035156e-05, 6.1e-05,
        ]
        var random = SeededRandom(seed: 16)
        values += (0..<2000).map { _ in Float(bitPattern: UInt32.random(in: 0...UInt32.max, using: &random)) }
            .filter { !$0.isNaN }
        var halves = [UInt16](repeating: 0, count: values.count)
        halves.withUnsafeMutableBufferPointer { ek_to_f16(values, values.count, $0.baseAddress) }
        var back = [Float](repeating: .nan, count: values.count)
        back.withUnsafeMutableBufferPointer { ek_from_f16(halves, halves.count, $0.baseAddress) }
        for (index, value) in values.enumerated() {
            // Swift's Float16 rounds to nearest even, as IEEE 754 asks.
            #expect(halves[index] == Float16(value).bitPattern, "\(value)")
            #expect(back[index] == Float(Float16(value)), "\(value)")
        }
        var nan = [UInt16](repeating: 0, count: 1)
        nan.withUnsafeMutableBufferPointer { ek_to_f16([Float.nan], 1, $0.baseAddress) }
        #expect(Float16(bitPattern: nan[0]).isNaN)
    }

    @Test func dotProductsAndSumsOfHalfRowsMatchTheDefinition() {
        var random = SeededRandom(seed: 3)
        for dims in [1, 7, 8, 9, 384] {
            let floats = (0..<20 * dims).map { _ in Float.random(in: -1...1, using: &random) }
            let rows = floats.map { Float16($0).bitPattern }
            let query = (0..<dims).map { _ in Float.random(in: -1...1, using: &random) }
            let positions: [Int32] = [19, 0, 5, 5, 12]
            for fast in [true, false] {
                var out = [Float](repeating: .nan, count: positions.count + 1)
                out.withUnsafeMutableBufferPointer {
                    if fast {
                        ek_dot_rows_f16(query, rows, positions, positions.count, dims, $0.baseAddress)
                    } else {
                        ek_dot_rows_f16_plain(query, rows, positions, positions.count, dims, $0.baseAddress)
                    }
                }
                var sum = [Float](repeating: 1, count: dims + 1)
                sum.withUnsafeMutableBufferPointer {
                    if fast {
                        ek_add_rows_f16(rows, positions, positions.count, dims, $0.baseAddress)
                    } else {
                        ek_add_rows_f16_plain(rows, positions, positions.count, dims, $0.baseAddress)
                    }
                }
                for (index, position) in positions.enumerated() {
                    let expected = (0..<dims).reduce(0.0) {
                        $0 + Double(query[$1]) * Double(Float(Float16(bitPattern: rows[Int(position) * dims + $1])))
                    }
                    #expect(abs(Double(out[index]) - expected) < 1e-4)
                }
                for d in 0..<dims {
                    let expected = positions.reduce(1.0) {
                        $0 + Double(Float(Float16(bitPattern: rows[Int($1) * dims + d])))
                    }
                    #expect(abs(Double(sum[d]) - expected) < 1e-4)
                }
                // Nothing written past `count` or `dims`.
                #expect(out[positions.count].isNaN)
                #expect(sum[dims] == 1)
            }
        }
    }

    /// A query encoder learned from the tiny model's vectors of word combinations.
    static func tinyEncoder() throws -> (
        SentenceEncoder, DistilledQueryEncoder?, [(text: String, vector: [Float])], URL
    ) {
        let folder = try TinyEncoderTests.folder(model: TinyEncoderTests.safetensors())
        let encoder = try SentenceEncoder(folder: folder)
        let words = ["outlook", "password", "crash", "crashes", "mail"]
        var texts: [String] = []
        for first in words {
            for second in words { texts += ["\(first) \(second)", "\(first) \(second) mail", "\(first)"] }
        }
        let training = texts.map { (text: $0, vector: encoder.encode($0, limit: SentenceEncoder.maxQueryTokens)) }
        return (encoder, DistilledQueryEncoder(encoder: encoder, texts: training, minimum: 10), training, folder)
    }

    @Test func learnsVectorsCloseToTheSentenceEncoders() throws {
        let (encoder, learned, training, folder) = try Self.tinyEncoder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let distilled = try #require(learned)
        #expect(distilled.trainedOn == training.count)
        // Each text's learned vector is nearer its own target than the average target is.
        let centroid = (0..<encoder.dimensions).map { d in
            training.reduce(Float(0)) { $0 + $1.vector[d] } / Float(training.count)
        }
        func cosine(_ a: [Float], _ b: [Float]) -> Float {
            zip(a, b).reduce(0) { $0 + $1.0 * $1.1 }
                / (a.reduce(0) { $0 + $1 * $1 }.squareRoot() * b.reduce(0) { $0 + $1 * $1 }.squareRoot())
        }
        var nearer = 0
        var learnedCosines: Float = 0
        var centroidCosines: Float = 0
        for (text, target) in training {
            let vector = try #require(distilled.encode(text))
            #expect(abs(vector.reduce(0) { $0 + $1 * $1 } - 1) < 1e-4)
            learnedCosines += cosine(vector, target)
            centroidCosines += cosine(centroid, target)
            if cosine(vector, target) > cosine(centroid, target) { nearer += 1 }
        }
        // A mean of pieces cannot follow a contextual model everywhere (67 of 75 here), but mostly does.
        #expect(nearer * 10 >= training.count * 8, "\(nearer) of \(training.count)")
        #expect(learnedCosines > centroidCosines)
        // A text without a known piece has no vector; unknown pieces are left out of one that has.
        #expect(distilled.encode("") == nil)
        #expect(distilled.encode("zzz ###") == nil)
        #expect(distilled.encode("outlook zzz") == distilled.encode("outlook"))
        // Too few texts, or vectors of the wrong size: nothing learned.
        #expect(DistilledQueryEncoder(encoder: encoder, texts: Array(training.prefix(9)), minimum: 10) == nil)
        #expect(
            DistilledQueryEncoder(encoder: encoder, texts: training.map { ($0.text, [1, 2]) }, minimum: 10) == nil)
    }

    @Test func anIndexReadsQueriesWithTheLearnedEncoder() throws {
        let (encoder, _, training, folder) = try Self.tinyEncoder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let articles = [
            Article(id: "a", title: "Outlook crashes", product: "Outlook", url: "https://x.test/a"),
            Article(id: "b", title: "Mail password", product: "Outlook", url: "https://x.test/b"),
        ]
        let vectors = Dictionary(
            uniqueKeysWithValues: articles.map { ($0.id, encoder.encode(SemanticIndex.text(of: $0))) })
        let index = SolutionIndex(
            articles: articles, semantic: (encoder, vectors), queryTraining: training, queryTrainingMinimum: 10)
        #expect(index.queryEncoder == .distilled)
        #expect(index.search("outlook crashes").first?.id == "a")
        var full = SearchOptions()
        full.distilledQueries = false
        let sentence = SolutionIndex(
            articles: articles, options: full, semantic: (encoder, vectors), queryTraining: training,
            queryTrainingMinimum: 10)
        #expect(sentence.queryEncoder == .sentenceEncoder && sentence.distilledQueryEncoder == nil)
        #expect(
            SolutionIndex(articles: articles, semantic: (encoder, vectors), queryTraining: Array(training.prefix(5)))
                .queryEncoder == .sentenceEncoder)
        #expect(SolutionIndex(articles: articles).queryEncoder == SolutionIndex.QueryEncoding.none)
    }

    @Test func aLearnedEncoderServesWhileItsTextsHardlyChange() throws {
        let (encoder, learned, training, folder) = try Self.tinyEncoder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let distilled = try #require(learned)
        let texts = Array(Set(training.map(\.text))).sorted()
        let learnedFrom = Set(texts)
        #expect(distilled.serves(learnedFrom: learnedFrom, now: texts) == (true, []))
        // A new text of known pieces, or one gone: kept, and the new one named (its vector is needed later).
        #expect(
            distilled.serves(learnedFrom: learnedFrom, now: texts + ["mail mail password outlook"]) == (
                true, ["mail mail password outlook"]
            ))
        #expect(distilled.serves(learnedFrom: learnedFrom, now: Array(texts.dropFirst())).serves)
        // A piece it never learned, or more than a tenth of the texts changed: learn again.
        #expect(!distilled.knowsEveryPiece(of: "outlook zzz") && distilled.knowsEveryPiece(of: "Outlook crashes"))
        #expect(!distilled.serves(learnedFrom: learnedFrom, now: texts + ["outlook zzz"]).serves)
        #expect(!distilled.serves(learnedFrom: learnedFrom, now: Array(texts.dropFirst(texts.count / 10 + 1))).serves)
        #expect(!distilled.serves(learnedFrom: [], now: texts).serves)

        // An index given it learns nothing and reads queries with it.
        let articles = [Article(id: "a", title: "Outlook crashes", product: "Outlook", url: "https://x.test/a")]
        let vectors = ["a": encoder.encode(SemanticIndex.text(of: articles[0]))]
        let index = SolutionIndex(articles: articles, semantic: (encoder, vectors), queryEncoder: distilled)
        #expect(index.queryEncoder == .distilled)
        #expect(index.distilledQueryEncoder?.trainedOn == distilled.trainedOn)
        #expect(distilled.modelName == encoder.modelName)
        var sentence = SearchOptions()
        sentence.distilledQueries = false
        #expect(
            SolutionIndex(articles: articles, options: sentence, semantic: (encoder, vectors), queryEncoder: distilled)
                .queryEncoder == .sentenceEncoder)
    }

    @Test func aStoredEncoderReadsBackAsLearnedAndBadBytesAreRefused() throws {
        let (encoder, learned, training, folder) = try Self.tinyEncoder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let distilled = try #require(learned)
        let bytes = distilled.serialized()
        let back = try #require(DistilledQueryEncoder(serialized: bytes, encoder: encoder))
        #expect(back.trainedOn == distilled.trainedOn && back.modelName == encoder.modelName)
        #expect(back.pieceCount == distilled.pieceCount && back.bytes == distilled.bytes)
        for (text, _) in training + [("outlook zzz", []), ("", [])] {
            #expect(back.encode(text) == distilled.encode(text), "\(text)")
        }
        #expect(back.serialized() == bytes)
        // Cut short, grown, another format, another size of vector, a row number past the rows: nil, no trap.
        var wrongRow = bytes
        wrongRow.replaceSubrange(20..<24, with: [0xff, 0xff, 0xff, 0x7f])
        var wrongSize = bytes
        wrongSize[4] &+= 1
        for bad in [
            bytes.prefix(bytes.count - 1), bytes + [0], Data("DQE2".utf8) + bytes.dropFirst(4), wrongRow, wrongSize,
            Data(), Data(repeating: 0xff, count: 64),
        ] {
            #expect(DistilledQueryEncoder(serialized: Data(bad), encoder: encoder) == nil)
        }
        var random = SystemRandomNumberGenerator()
        for _ in 0..<200 {
            var mutated = bytes
            for _ in 0..<4 {
                mutated[Int.random(in: 0..<min(mutated.count, 64), using: &random)] = UInt8.random(
                    in: 0...255, using: &random)
            }
            _ = DistilledQueryEncoder(serialized: mutated, encoder: encoder)?.encode("outlook crashes")
        }
    }

    /// The training texts as first written, character by character: the definition the byte paths must keep
    /// (the stored sentence vectors are keyed by these texts).
    static func referenceTrainingTexts(of articles: [Article], limit: Int = DistilledQueryEncoder.maximumTexts)
        -> [String]
    {
        guard limit > 0 else { return [] }
        // The `limit` texts of the smallest hashes (of the lower-cased text, so repeats that differ in case are
        // one): a knowledge base of 50,000 articles has millions of sentences, and only the chosen ones are held.
        var chosen = BestOf<DistilledQueryEncoder.SmallestHash>(capacity: limit)
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
            let hash = FNV1a.hash(text.lowercased().utf8)
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
                    for sentence in referenceSentences(line) { add(sentence) }
                }
            }
            let detail = article.symptoms.isEmpty ? String(article.body.prefix(1500)) : article.symptoms
            let symptoms = detail.split(separator: "\n").flatMap(referenceSentences).filter {
                $0.split(whereSeparator: \.isWhitespace).count > 3
            }
            for (first, second) in zip(symptoms, symptoms.dropFirst()) { add(Substring("\(first) \(second)")) }
        }
        return chosen.sorted().map(\.text)
    }

    static func referenceSentences(_ line: Substring) -> [Substring] {
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

    @Test func trainingTextsByBytesAreTheTextsByCharacters() {
        var generator = SystemRandomNumberGenerator()
        // Pieces that meet every rule: white space of both kinds, line ends, list marks, sentence ends, letters
        // and symbols, non-ASCII letters, spaces and punctuation.
        let pieces = [
            "Outlook", "prompts", "for", "a", "password", "again", "Teams", "meeting", "x", "42", "0x8004de40", " ",
            "  ", "\t", "\n", "\r\n", "\r", "\n\r", "\u{0B}", "\u{0C}", "- ", "* ", "| ", "# ", "> ", "-", ".", ". ",
            "! ", "? ", ".\n", "?\r\n", "!", "==", "{1, 2};", "’", "é", "naïve", "\u{00A0}", "\u{2028}", "\u{85}",
            "。", "…", "e\u{301}", "🙂", "Ärger", "\u{200B}",
        ]
        func text(_ count: Int) -> String {
            (0..<count).map { _ in pieces.randomElement(using: &generator)! }.joined(
                separator: Bool.random(using: &generator) ? " " : "")
        }
        let ascii = pieces.filter { $0.utf8.allSatisfy { $0 < 0x80 } }
        func asciiText(_ count: Int) -> String {
            (0..<count).map { _ in ascii.randomElement(using: &generator)! }.joined(separator: " ")
        }
        var articles: [Article] = []
        for number in 0..<300 {
            let make = number.isMultiple(of: 2) ? asciiText : text
            articles.append(
                Article(
                    id: "\(number)", title: make(Int.random(in: 0...12, using: &generator)), product: "", url: "",
                    description: make(Int.random(in: 0...20, using: &generator)),
                    symptoms: make(Int.random(in: 0...80, using: &generator)),
                    cause: make(Int.random(in: 0...40, using: &generator)),
                    resolution: make(Int.random(in: 0...40, using: &generator)),
                    body: make(Int.random(in: 0...200, using: &generator))))
        }
        for limit in [5, 100, 100_000] {
            #expect(
                DistilledQueryEncoder.trainingTexts(of: articles, limit: limit)
                    == Self.referenceTrainingTexts(of: articles, limit: limit))
        }
        for article in articles {
            for field in [article.body, article.symptoms] {
                #expect(DistilledQueryEncoder.lines(field) == field.split(separator: "\n"))
                for line in field.split(separator: "\n") {
                    #expect(DistilledQueryEncoder.sentences(line) == Self.referenceSentences(line))
                    #expect(
                        DistilledQueryEncoder.wordCount(line, moreThan: 3)
                            == (line.split(whereSeparator: \.isWhitespace).count > 3))
                }
            }
        }
    }

    @Test func trainingTextsAreTheKnowledgeBasesSentences() {
        let article = Article(
            id: "one", title: "Outlook keeps asking for a password", product: "Outlook", url: "https://x.test/1",
            description: "Describes an issue in which Outlook prompts again and again.",
            symptoms: """
                - Outlook prompts for credentials. It happens after every restart!
                0x80070005 == 42 || $a[0] = {1, 2};
                Short.
                Outlook prompts for credentials.
                """,
            body: "Outlook keeps asking for a password\n\n| Setting | Value |")
        let texts = DistilledQueryEncoder.trainingTexts(of: [article])
        #expect(
            Set(texts) == [
                "Outlook keeps asking for a password",
                "Describes an issue in which Outlook prompts again and again.",
                "Outlook prompts for credentials.",
                "It happens after every restart!",
                "Outlook prompts for credentials. It happens after every restart!",
                "Setting | Value",
            ])
        #expect(texts.count == 6)
        // A smaller limit keeps a part of the same choice, in the same order.
        let many = DistilledQueryEncoder.trainingTexts(of: [
            article,
            Article(
                id: "two", title: "Teams meeting audio drops", product: "Teams", url: "https://x.test/2",
                description: "Participants lose audio in Teams meetings after a few minutes."),
        ])
        #expect(
            Array(many.prefix(3))
                == DistilledQueryEncoder.trainingTexts(
                    of: [
                        article,
                        Article(
                            id: "two", title: "Teams meeting audio drops", product: "Teams", url: "https://x.test/2",
                            description: "Participants lose audio in Teams meetings after a few minutes."),
                    ], limit: 3))
        #expect(DistilledQueryEncoder.trainingTexts(of: [article], limit: 0).isEmpty)
        #expect(DistilledQueryEncoder.trainingTexts(of: [article], limit: -4).isEmpty)
        let long = Article(
            id: "long", title: String(repeating: "word ", count: 500), product: "Teams", url: "https://x.test/l")
        #expect(DistilledQueryEncoder.trainingTexts(of: [long]).first?.split(separator: " ").count == 60)
    }

    @Test func oddTextNeverTrapsLearningOrEncoding() throws {
        let (_, learned, _, folder) = try Self.tinyEncoder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let distilled = try #require(learned)
        var random = SeededRandom(seed: 9)
        let alphabet = Array(
            "outlook mail crashes password \u{0}\u{7}\t\n\r.!?-*|#> é\u{301}ß日本語😀\u{200B}\u{FFFD}x##OUTLOOK")
        func text() -> String {
            String((0..<Int.random(in: 0...200, using: &random)).map { _ in alphabet.randomElement(using: &random)! })
        }
        for _ in 0..<300 {
            if let vector = distilled.encode(text()) {
                #expect(vector.count == 8 && vector.allSatisfy { $0.isFinite })
            }
        }
        let articles = (0..<40).map {
            Article(
                id: "odd/\($0)", title: text(), product: "Outlook", url: "https://x.test", description: text(),
                symptoms: text(), cause: text(), resolution: text(), body: text())
        }
        let texts = DistilledQueryEncoder.trainingTexts(of: articles, limit: 50)
        #expect(texts.count <= 50)
        #expect(Set(texts.map { $0.lowercased() }).count == texts.count)
        #expect(texts.allSatisfy { $0.split(separator: " ").count >= 3 && $0.split(separator: " ").count <= 60 })
    }

    @Test func theTriesPiecesAreTheGreedyLongestPieces() throws {
        let folder = try TinyEncoderTests.folder(model: TinyEncoderTests.safetensors())
        defer { try? FileManager.default.removeItem(at: folder) }
        let tokenizer = try SentenceEncoder(folder: folder).tokenizer
        // The definition: the longest vocabulary string from each start, `##` after the first piece.
        func greedy(_ word: [Unicode.Scalar]) -> [Int32] {
            var pieces: [Int32] = []
            var start = 0
            while start < word.count {
                var end = word.count
                var found: Int32?
                while start < end {
                    var candidate = start > 0 ? "##" : ""
                    candidate.unicodeScalars.append(contentsOf: word[start..<end])
                    if let token = tokenizer.vocabulary[candidate] {
                        found = token
                        break
                    }
                    end -= 1
                }
                guard let found else { return [tokenizer.unknown] }
                pieces.append(found)
                start = end
            }
            return pieces
        }
        var random = SeededRandom(seed: 11)
        let parts = ["outlook", "password", "crash", "es", "mail", "x", "o", "ma"]
        for _ in 0..<300 {
            let word = (0..<Int.random(in: 1...4, using: &random)).map { _ in
                parts[Int.random(in: 0..<parts.count, using: &random)]
            }.joined()
            let scalars = Array(word.unicodeScalars)
            #expect(tokenizer.pieces(scalars) == greedy(scalars), "\(word)")
        }
    }

    @Test func asciiTextSplitsAsTheUnicodePathSplitsIt() {
        var random = SeededRandom(seed: 5)
        for _ in 0..<500 {
            let text = String(
                decoding: (0..<Int.random(in: 0...40, using: &random)).map { _ in
                    UInt8.random(in: 0...127, using: &random)
                }, as: UTF8.self)
            #expect(WordPieceTokenizer.words(text) == WordPieceTokenizer.unicodeWords(text), "\(Array(text.utf8))")
        }
    }

    @Test func theBestNAreTheSortedBest() {
        var random = SeededRandom(seed: 8)
        for _ in 0..<200 {
            // Few distinct values, so ties are common; zeros are never among the best.
            let scores = (0..<Int.random(in: 0...300, using: &random)).map { _ in
                Double(Int.random(in: 0...20, using: &random)) / 4
            }
            let limit = Int.random(in: -1...120, using: &random)
            let expected = scores.enumerated().filter { $0.element > 0 }
                .sorted { $0.element != $1.element ? $0.element > $1.element : $0.offset < $1.offset }
                .prefix(max(0, limit)).map(\.offset)
            #expect(SolutionIndex.top(scores, limit: limit) == Array(expected))
        }
    }
}

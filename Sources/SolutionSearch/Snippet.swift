/// The passage of an article that best shows why it matched a query, with the matched words marked the way
/// Microsoft Search marks hits: `<c0>word</c0>` around a match and `<ddd/>` where text was cut. The article's own
/// `&`, `<` and `>` are written as `&amp;`, `&lt;` and `&gt;`, so those two tags are the only markup.
public enum Snippet {
    public static let open = "<c0>"
    public static let close = "</c0>"
    public static let cut = "<ddd/>"
    /// About how long a snippet is, in characters of text.
    public static let length = 240
    /// How much of a body is searched for the passage: long bodies make their point early, and a snippet is
    /// made for every result of every search.
    static let scannedBodyBytes = 6_000

    /// What a query looks for in a passage, worked out once for all the results of a search: the stems of its
    /// words, of the words its abbreviations stand for and of corrections of its typos, each with how rare it is.
    public struct Query: Sendable {
        /// Stem → weight.
        let weights: [String: Double]
        /// With an index: every corpus word of a wanted stem → its weight.
        let words: [String: Double]
        /// `words` by the FNV-1a hash of their bytes, sorted: an article's words are checked without making
        /// strings of them.
        let hashes: [(UInt64, Double)]

        public init(_ text: String, in index: SolutionIndex? = nil) {
            var weights: [String: Double] = [:]
            func add(_ word: String) {
                let entry = index?.lexicon[word]
                let stem = entry?.stem ?? PorterStemmer.stem(word)
                weights[stem] = entry?.stemmed?.idf ?? index?.postings["~" + stem]?.idf ?? 1
            }
            for token in Analyzer.tokens(text).prefix(QueryPlan.maxTokens) where !Analyzer.stopWords.contains(token) {
                add(token)
                for word in Vocabulary.expansions[token] ?? [] { add(word) }
                if let index, index.lexicon[token] == nil, let corrected = index.typos.correct(token) {
                    add(corrected)
                }
            }
            self.weights = weights
            var words: [String: Double] = [:]
            if let index {
                for (stem, weight) in weights {
                    for word in index.words[stem] ?? [] { words[word] = weight }
                }
            }
            self.words = words
            hashes = words.map { (FNV1a.hash($0.key.utf8), $0.value) }.sorted { $0.0 < $1.0 }
        }

        func hashedWeight(of hash: UInt64) -> Double {
            var low = 0
            var high = hashes.count
            while low < high {
                let middle = (low + high) / 2
                if hashes[middle].0 < hash { low = middle + 1 } else { high = middle }
            }
            return low < hashes.count && hashes[low].0 == hash ? hashes[low].1 : 0
        }

        /// The weight of a raw token of an article, 0 when the query does not want it. The index's articles'
        /// words are all in `words`; only other text needs stemming.
        func weight(of token: String, index: SolutionIndex?) -> Double {
            if let index, index.lexicon[token] != nil { return words[token] ?? 0 }
            guard !Analyzer.stopWords.contains(token) else { return 0 }
            return weights[PorterStemmer.stem(token)] ?? 0
        }
    }

    /// The snippet of `article` for the query `text`.
    public static func make(for article: Article, query text: String, in index: SolutionIndex? = nil) -> String {
        make(for: article, query: Query(text, in: index), in: index)
    }

    public static func make(for article: Article, query: Query, in index: SolutionIndex? = nil) -> String {
        // Every word of an indexed article is a corpus word: one lookup tells whether the query wants it.
        let indexed = index.map { $0.article(id: article.id) == article } ?? false
        let weigh: ([UInt8], UInt64) -> Double =
            indexed
            ? { query.hashedWeight(of: $1) }
            : { bytes, _ in query.weight(of: String(decoding: bytes, as: UTF8.self), index: index) }
        let sources = [article.description, article.symptoms, article.resolution, article.cause, article.body]
        var best: (score: Double, source: Int, sentences: [Range<Int>], at: Int)?
        if !query.weights.isEmpty {
            for (number, source) in sources.enumerated() where !source.isEmpty {
                let limit = number == sources.count - 1 ? scannedBodyBytes : Int.max
                let found = bestSentence(in: source.utf8.prefix(limit), weigh: weigh)
                if let found, found.score > (best?.score ?? 0) {
                    best = (found.score, number, found.sentences, found.at)
                }
            }
        }
        guard let best else {
            let opening = Substring(sources.first { !$0.isEmpty } ?? article.title)
            let clipped = clip(opening)
            return mark(clipped, query: query, index: index) + (clipped.count < opening.count ? cut : "")
        }
        // The best sentence, and the next while there is room: a short sentence alone says little.
        var range = best.sentences[best.at]
        var next = best.at + 1
        while range.count < length / 2, next < best.sentences.count {
            range = range.lowerBound..<best.sentences[next].upperBound
            next += 1
        }
        let passage = Substring(
            String(decoding: sources[best.source].utf8.dropFirst(range.lowerBound).prefix(range.count), as: UTF8.self))
        let clipped = clip(passage)
        let more = clipped.count < passage.count || next < best.sentences.count
        return (best.at > 0 ? cut : "") + mark(clipped, query: query, index: index) + (more ? cut : "")
    }

    /// The sentences of `text` (byte ranges, trimmed) and the one holding the most — and rarest — words of the
    /// query, each counted once; nil when none holds any.
    static func bestSentence(in text: Substring.UTF8View, weigh: ([UInt8], UInt64) -> Double) -> (
        score: Double, sentences: [Range<Int>], at: Int
    )? {
        let bytes = Array(text)
        var sentences: [Range<Int>] = []
        var best: (score: Double, at: Int)?
        var start = 0
        var score = 0.0
        var seen: [UInt64] = []
        var word: [UInt8] = []
        func endWord() {
            guard !word.isEmpty else { return }
            if word.count <= 64 {
                let hash = FNV1a.hash(word)
                let weight = weigh(word, hash)
                if weight > 0, !seen.contains(hash) {
                    seen.append(hash)
                    score += weight
                }
            }
            word.removeAll(keepingCapacity: true)
        }
        func endSentence(at end: Int) {
            endWord()
            var lower = start
            var upper = end
            while lower < upper, isSpace(bytes[lower]) { lower += 1 }
            while upper > lower, isSpace(bytes[upper - 1]) { upper -= 1 }
            if lower < upper {
                if score > (best?.score ?? 0) { best = (score, sentences.count) }
                sentences.append(lower..<upper)
            }
            start = end
            score = 0
            seen.removeAll(keepingCapacity: true)
        }
        var position = 0
        while position < bytes.count {
            var byte = bytes[position]
            if byte >= 65 && byte <= 90 { byte += 32 }
            if byte == 0xE2, position + 2 < bytes.count, bytes[position + 1] == 0x80, bytes[position + 2] == 0x99 {
                // A typographic apostrophe (’) is dropped like an ASCII one, as the analyzer does.
                position += 3
                continue
            } else if (byte >= 97 && byte <= 122) || (byte >= 48 && byte <= 57) || byte >= 0x80 {
                word.append(byte)
            } else if byte == 46, word.last.map({ $0 >= 48 && $0 <= 57 }) == true, position + 1 < bytes.count,
                bytes[position + 1] >= 48 && bytes[position + 1] <= 57
            {
                word.append(byte)
            } else if byte == 39, !word.isEmpty {
                // can't, user's: one word, as the analyzer reads it.
            } else if byte == 10
                || ((byte == 46 || byte == 63 || byte == 33)
                    && (position + 1 == bytes.count || bytes[position + 1] == 32 || bytes[position + 1] == 10))
            {
                endSentence(at: position + 1)
            } else {
                endWord()
            }
            position += 1
        }
        endSentence(at: bytes.count)
        return best.map { ($0.score, sentences, $0.at) }
    }

    private static func isSpace(_ byte: UInt8) -> Bool {
        byte == 32 || byte == 9 || byte == 10 || byte == 13
    }

    /// `text` cut at a word boundary near ``length``.
    static func clip(_ text: Substring) -> Substring {
        guard text.count > length else { return text }
        let end = text.index(text.startIndex, offsetBy: length)
        let space = text[..<end].lastIndex(of: " ") ?? end
        return text[..<space]
    }

    /// `text` escaped, with every word the query wants wrapped in the hit tags.
    static func mark(_ text: Substring, query: Query, index: SolutionIndex?) -> String {
        var output = ""
        var word = ""
        func flushWord() {
            guard !word.isEmpty else { return }
            let token = Analyzer.tokens(word).first ?? ""
            if !token.isEmpty, query.weight(of: token, index: index) > 0 {
                output += open + escaped(word) + close
            } else {
                output += escaped(word)
            }
            word = ""
        }
        var position = text.startIndex
        while position < text.endIndex {
            let character = text[position]
            let after = text.index(after: position)
            // A dot between digits belongs to the word: `5.7.133` is one code.
            let dotInNumber =
                character == "." && word.last?.isNumber == true && after < text.endIndex && text[after].isNumber
            if character.isLetter || character.isNumber || character == "'" || character == "’" || dotInNumber {
                word.append(character)
            } else if character.isWhitespace {
                // Lines and runs of spaces of the article read as one space in a one-line snippet.
                flushWord()
                if !output.isEmpty, output.last != " " { output.append(" ") }
            } else {
                flushWord()
                output += escaped(String(character))
            }
            position = after
        }
        flushWord()
        while output.last == " " { output.removeLast() }
        return output
    }

    static func escaped(_ text: String) -> String {
        guard text.contains(where: { $0 == "&" || $0 == "<" || $0 == ">" }) else { return text }
        var result = ""
        for character in text {
            switch character {
            case "&": result += "&amp;"
            case "<": result += "&lt;"
            case ">": result += "&gt;"
            default: result.append(character)
            }
        }
        return result
    }
}

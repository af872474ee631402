/// The passage of an article that best shows why it matched a query, with the matched words marked the way
/// Microsoft Search marks hits: `<c0>word</c0>` around a match and `<ddd/>` where text was cut. The article's own
/// `&`, `<` and `>` are written as `&amp;`, `&lt;` and `&gt;`, so those two tags are the only markup.
public enum Snippet {
    public static let open = "<c0>"
    public static let close = "</c0>"
    public static let cut = "<ddd/>"
    /// About how long a snippet is, in characters of text.
    public static let length = 240
    /// How much of an article is searched for the passage: long bodies have their point early.
    static let scannedBytes = 30_000

    /// The snippet of `article` for the query `text`.
    public static func make(for article: Article, query text: String, in index: SolutionIndex? = nil) -> String {
        let wanted = stems(of: text, index: index)
        let sources = [article.description, article.symptoms, article.resolution, article.cause, article.body]
        var best: (score: Double, sentences: [Substring], at: Int)?
        for source in sources where !source.isEmpty {
            let sentences = Self.sentences(String(decoding: source.utf8.prefix(scannedBytes), as: UTF8.self))
            for (position, sentence) in sentences.enumerated() {
                let score = Self.score(sentence, wanted: wanted, index: index)
                if score > (best?.score ?? 0) { best = (score, sentences, position) }
            }
        }
        guard let best else {
            let opening = Substring(sources.first { !$0.isEmpty } ?? article.title)
            let clipped = clip(opening)
            return mark(clipped, wanted: [], cutBefore: false) + (clipped.count < opening.count ? cut : "")
        }
        // The best sentence, and the next while there is room: a short sentence alone says little.
        var passage = String(best.sentences[best.at])
        var next = best.at + 1
        while passage.count < length / 2, next < best.sentences.count {
            passage += " " + best.sentences[next]
            next += 1
        }
        let clipped = clip(Substring(passage))
        let more = clipped.count < passage.count || next < best.sentences.count
        return mark(clipped, wanted: wanted, cutBefore: best.at > 0) + (more ? cut : "")
    }

    /// The stems of the query's words, of the words its abbreviations stand for and of corrections of its typos.
    static func stems(of text: String, index: SolutionIndex?) -> Set<String> {
        var stems = Set<String>()
        for token in Analyzer.tokens(text).prefix(QueryPlan.maxTokens) where !Analyzer.stopWords.contains(token) {
            stems.insert(PorterStemmer.stem(token))
            for word in Vocabulary.expansions[token] ?? [] { stems.insert(PorterStemmer.stem(word)) }
            if let index, index.rawVocabulary[token] == nil, let corrected = index.typos.correct(token) {
                stems.insert(PorterStemmer.stem(corrected))
            }
        }
        return stems
    }

    /// Sentences and lines of `text`, trimmed, empty ones dropped.
    static func sentences(_ text: String) -> [Substring] {
        var result: [Substring] = []
        var start = text.startIndex
        var index = text.startIndex
        while index < text.endIndex {
            let character = text[index]
            let after = text.index(after: index)
            let ends =
                character == "\n"
                || ((character == "." || character == "?" || character == "!")
                    && (after == text.endIndex || text[after] == " " || text[after] == "\n"))
            if ends {
                let sentence = text[start..<after].trimmingSpaces
                if !sentence.isEmpty { result.append(sentence) }
                start = after
            }
            index = after
        }
        let last = text[start...].trimmingSpaces
        if !last.isEmpty { result.append(last) }
        return result
    }

    /// How well a sentence shows the query: the rarer the words of the query it holds, the better; each word
    /// counts once.
    static func score(_ sentence: Substring, wanted: Set<String>, index: SolutionIndex?) -> Double {
        guard !wanted.isEmpty else { return 0 }
        var seen = Set<String>()
        var score = 0.0
        for token in Analyzer.tokens(String(sentence)) where !Analyzer.stopWords.contains(token) {
            let stem = PorterStemmer.stem(token)
            guard wanted.contains(stem), seen.insert(stem).inserted else { continue }
            score += index?.postings["~" + stem]?.idf ?? 1
        }
        return score
    }

    /// `text` cut at a word boundary near ``length``.
    static func clip(_ text: Substring) -> Substring {
        guard text.count > length else { return text }
        let end = text.index(text.startIndex, offsetBy: length)
        let space = text[..<end].lastIndex(of: " ") ?? end
        return text[..<space]
    }

    /// `text` escaped, with every word whose stem is wanted wrapped in the hit tags, and cut marks where the text
    /// does not start or end the article's passage.
    static func mark(_ text: Substring, wanted: Set<String>, cutBefore: Bool) -> String {
        var output = cutBefore ? cut : ""
        var word = ""
        func flushWord() {
            guard !word.isEmpty else { return }
            let token = Analyzer.tokens(word).first ?? ""
            if !token.isEmpty, !Analyzer.stopWords.contains(token), wanted.contains(PorterStemmer.stem(token)) {
                output += open + escaped(word) + close
            } else {
                output += escaped(word)
            }
            word = ""
        }
        var index = text.startIndex
        while index < text.endIndex {
            let character = text[index]
            let after = text.index(after: index)
            // A dot between digits belongs to the word: `5.7.133` is one code.
            let dotInNumber =
                character == "." && word.last?.isNumber == true && after < text.endIndex && text[after].isNumber
            if character.isLetter || character.isNumber || character == "'" || character == "’" || dotInNumber {
                word.append(character)
            } else {
                flushWord()
                output += escaped(String(character))
            }
            index = after
        }
        flushWord()
        return output
    }

    static func escaped(_ text: String) -> String {
        guard text.contains(where: { $0 == "&" || $0 == "<" || $0 == ">" }) else { return text }
        return text.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
            .replacingOccurrences(of: ">", with: "&gt;")
    }
}

extension Substring {
    fileprivate var trimmingSpaces: Substring {
        var result = self
        while let first = result.first, first.isWhitespace { result.removeFirst() }
        while let last = result.last, last.isWhitespace { result.removeLast() }
        return result
    }
}

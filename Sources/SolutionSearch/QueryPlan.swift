/// What one query searches for: weighted postings of index terms (the query's own words, their stems, words its
/// abbreviations stand for, corrections of words the corpus does not know, error codes weighted up, word pairs),
/// the stems proximity looks for, and the products it points at.
struct QueryPlan {
    private(set) var terms: [(run: SolutionIndex.TermPostings, weight: Double)] = []
    /// Stem numbers with their idf, for proximity.
    private(set) var stems: [(number: Int32, idf: Double)] = []
    /// product name → score multiplier.
    private(set) var products: [String: Double] = [:]
    /// Words the corpus does not know → the corpus words read for them (`pasword` → `password`).
    private(set) var corrections: [String: String] = [:]

    static let expansionWeight = SolutionIndex.tuning("SS_EXP")?.first ?? 0.4
    static let correctionWeight = SolutionIndex.tuning("SS_TYPO")?.first ?? 0.8
    static let codeWeight = SolutionIndex.tuning("SS_CODE")?.first ?? 2.0
    /// The weight of matching another form of a word (its stem) beside matching it as written.
    static let stemWeight = SolutionIndex.tuning("SS_STEM")?.first ?? 0.5
    static let pairWeight = SolutionIndex.tuning("SS_PAIR")?.first ?? 1.0
    static let maxTokens = 400

    init(text: String, product: String?, index: SolutionIndex) {
        let options = index.options
        // A term is its postings run, known by where the run starts.
        var weights: [Int: Double] = [:]
        var order: [SolutionIndex.TermPostings] = []
        var stemNumbers = Set<Int32>()
        func put(_ run: SolutionIndex.TermPostings?, _ weight: Double) {
            guard let run else { return }
            if let existing = weights[run.start] {
                // A term written several times counts once at its highest weight: long tickets repeat words.
                weights[run.start] = max(existing, weight)
            } else {
                weights[run.start] = weight
                order.append(run)
            }
        }
        func add(_ token: String, _ weight: Double) {
            guard !Analyzer.stopWords.contains(token) else { return }
            let word = index.lexicon[token]
            put(word?.exact, weight)
            guard options.stemming else { return }
            if let word {
                put(word.stemmed, weight * Self.stemWeight)
                if word.stemNumber >= 0, let stemmed = word.stemmed, stemNumbers.insert(word.stemNumber).inserted {
                    stems.append((word.stemNumber, stemmed.idf))
                }
            } else {
                // A word the corpus does not hold may still share a stem with words it does.
                let stemTerm = Analyzer.stemTerm(token)
                put(index.postings[stemTerm], weight * Self.stemWeight)
                if let number = index.stemNumbers[stemTerm], let run = index.postings[stemTerm],
                    stemNumbers.insert(number).inserted
                {
                    stems.append((number, run.idf))
                }
            }
        }
        let tokens = Array(Analyzer.tokens(text).prefix(Self.maxTokens))
        for token in tokens {
            var weight = 1.0
            if options.codeBoost, Analyzer.isCode(token) { weight = Self.codeWeight }
            // A word the corpus does not know, or knows from a stray misspelling or two (`calender`), is read
            // as the much more common word one edit away.
            // A word of the Microsoft 365 vocabulary (`macbook`, `sspr`) is no typo, known to the corpus or not.
            let known = index.lexicon[token]?.documents ?? 0
            let expansion = options.expansions ? Vocabulary.expansions[token] : nil
            if options.typoTolerance, expansion == nil, known <= 2, !Analyzer.stopWords.contains(token),
                !Analyzer.isCode(token),
                let corrected = index.typos.correct(token, atLeast: known == 0 ? 2 : 20 * known)
            {
                add(corrected, Self.correctionWeight)
                if known == 0 {
                    corrections[token] = corrected
                    continue
                }
            }
            add(token, weight)
            if let expansion {
                for word in expansion { add(word, Self.expansionWeight) }
            }
            if options.productBoost, let name = Vocabulary.productWords[token] {
                products[name] = 1.15
            }
        }
        if let product, options.productBoost, !product.isEmpty {
            products[product] = 1.3
        }
        if options.phrases {
            let words = tokens.filter { !Analyzer.stopWords.contains($0) }
            // Stems of corpus words are looked up, not computed: a long ticket has dozens of pairs.
            let stems = words.map { index.lexicon[$0]?.stem ?? PorterStemmer.stem($0) }
            for pair in zip(stems, stems.dropFirst()) {
                put(index.postings[Analyzer.pairTerm(stemmed: pair.0, pair.1)], Self.pairWeight)
            }
        }
        terms = order.map { ($0, weights[$0.start] ?? 0) }
    }

    /// `text` with each word the corpus does not know that `isTypo` (lower-cased) written as its correction, for
    /// the sentence encoder: a misspelling is split into word pieces that mean nothing, and their vectors pull the
    /// query's off course. With a correction, only the part the encoders read (``SentenceEncoder/maxQueryCharacters``)
    /// is rewritten and returned.
    func corrected(_ text: String, isTypo: (String) -> Bool) -> String {
        guard !corrections.isEmpty else { return text }
        var result = ""
        var word = ""
        func endWord() {
            let lowered = word.lowercased()
            if let correction = corrections[lowered], isTypo(lowered) {
                result += correction
            } else {
                result += word
            }
            word = ""
        }
        for character in text.prefix(SentenceEncoder.maxQueryCharacters) {
            if character.isASCII, character.isLetter {
                word.append(character)
            } else {
                endWord()
                result.append(character)
            }
        }
        endWord()
        return result
    }
}

/// Corrects a word the corpus does not know to the most common corpus word one edit away (a letter added,
/// dropped, changed, or two swapped), through an index of the words' one-letter deletions.
struct TypoCorrector: Sendable {
    /// A deletion variant → the vocabulary words it comes from.
    private let deletions: [String: [String]]
    private let vocabulary: [String: Int]

    init(vocabulary: [String: Int]) {
        self.vocabulary = vocabulary
        var deletions: [String: [String]] = [:]
        for word in vocabulary.keys where word.utf8.count <= 20 && word.utf8.allSatisfy({ $0 >= 97 && $0 <= 122 }) {
            deletions[word, default: []].append(word)
            for variant in Self.deletes(word) { deletions[variant, default: []].append(word) }
        }
        self.deletions = deletions
    }

    static func deletes(_ word: String) -> Set<String> {
        let bytes = Array(word.utf8)
        var result = Set<String>()
        for index in bytes.indices {
            var copy = bytes
            copy.remove(at: index)
            result.insert(String(decoding: copy, as: UTF8.self))
        }
        return result
    }

    /// The most common word one edit from `word` that at least `atLeast` documents hold.
    func correct(_ word: String, atLeast: Int = 2) -> String? {
        let length = word.utf8.count
        guard length >= 4, length <= 20, word.utf8.allSatisfy({ $0 >= 97 && $0 <= 122 }) else { return nil }
        var candidates = Set<String>()
        for key in [word] + Array(Self.deletes(word)) {
            for candidate in deletions[key] ?? [] where candidate != word { candidates.insert(candidate) }
        }
        // People rarely mistype a word's first letter: a candidate that keeps it goes first, then the commonest.
        let first = word.utf8.first
        return candidates.filter { Self.distance($0, word) <= 1 && (vocabulary[$0] ?? 0) >= atLeast }
            .max {
                ($0.utf8.first == first ? 1 : 0, vocabulary[$0] ?? 0, $1)
                    < ($1.utf8.first == first ? 1 : 0, vocabulary[$1] ?? 0, $0)
            }
    }

    /// Damerau–Levenshtein distance (with adjacent swaps), for short words.
    static func distance(_ a: String, _ b: String) -> Int {
        let x = Array(a.utf8)
        let y = Array(b.utf8)
        if x.isEmpty { return y.count }
        if y.isEmpty { return x.count }
        var previous2 = [Int](repeating: 0, count: y.count + 1)
        var previous = Array(0...y.count)
        var current = [Int](repeating: 0, count: y.count + 1)
        for i in 1...x.count {
            current[0] = i
            for j in 1...y.count {
                let cost = x[i - 1] == y[j - 1] ? 0 : 1
                current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + cost)
                if i > 1, j > 1, x[i - 1] == y[j - 2], x[i - 2] == y[j - 1] {
                    current[j] = min(current[j], previous2[j - 2] + 1)
                }
            }
            (previous2, previous, current) = (previous, current, previous2)
        }
        return previous[y.count]
    }
}

import Foundation

/// A solution article as the search engine sees it.
public struct Article: Sendable, Equatable, Codable {
    public var id: String
    public var title: String
    public var product: String
    public var url: String
    public var description: String
    public var symptoms: String
    public var cause: String
    public var resolution: String
    public var body: String
    /// The one tenant that may find the article, or nil: shared by all.
    public var tenant: String?

    public init(
        id: String, title: String, product: String, url: String, description: String = "", symptoms: String = "",
        cause: String = "", resolution: String = "", body: String = "", tenant: String? = nil
    ) {
        self.id = id
        self.title = title
        self.product = product
        self.url = url
        self.description = description
        self.symptoms = symptoms
        self.cause = cause
        self.resolution = resolution
        self.body = body
        self.tenant = tenant
    }
}

/// One ranked result.
public struct SearchHit: Sendable, Equatable {
    public let id: String
    public let score: Double
}

/// What the engine may use; everything off is plain BM25 over title and body, for measuring what each part
/// adds.
public struct SearchOptions: Sendable, Equatable {
    /// BM25F weights per field (title, description, symptoms, cause, resolution); off: title and body alone.
    public var fieldWeights = true
    public var stemming = true
    public var expansions = true
    public var typoTolerance = true
    public var productBoost = true
    public var codeBoost = true
    /// Pairs of adjacent query words matched as pairs in titles, descriptions and symptoms.
    public var phrases = true
    /// The best few re-ranked by how close together the query's words stand in them.
    public var proximity = true
    /// The lexical best re-scored with the sentence encoder's similarity, when the index has its vectors.
    public var semantic = true
    /// Queries encoded by the distilled query encoder (when the index learned one) instead of the sentence
    /// encoder: the same ranking within noise, a hundred times faster.
    public var distilledQueries = true

    public init() {}

    /// Plain BM25 on title + body: the baseline.
    public static let baseline: SearchOptions = {
        var options = SearchOptions()
        options.fieldWeights = false
        options.stemming = false
        options.expansions = false
        options.typoTolerance = false
        options.productBoost = false
        options.codeBoost = false
        options.phrases = false
        options.proximity = false
        options.semantic = false
        options.distilledQueries = false
        return options
    }()
}

/// Field-weighted BM25 (BM25F) over solution articles, built in memory from the documents given. No web
/// framework and no database: documents in, ranked results out.
public final class SolutionIndex: Sendable {
    enum Field: Int, CaseIterable {
        case title, description, symptoms, cause, resolution, body
    }

    static let fieldCount = Field.allCases.count
    /// Field weights and length normalisation: the title and the symptoms say what the article is about.
    static let weights: [Double] = tuning("SS_WEIGHTS") ?? [3.0, 1.5, 1.5, 0.7, 0.5, 0.4]
    static let lengthNormalisation: [Double] = tuning("SS_B") ?? [0.5, 0.6, 0.7, 0.8, 0.8, 0.85]
    static let k1 = tuning("SS_K1")?.first ?? 2.0

    /// A value for tuning experiments from the environment (`SS_K1=1.6`); the defaults are the measured best.
    static func tuning(_ name: String) -> [Double]? {
        ProcessInfo.processInfo.environment[name].map { $0.split(separator: ",").compactMap { Double($0) } }
    }

    /// Term frequency per field (six of the eight lanes), held inline: an array per posting cost a heap
    /// allocation each, most of the build's time and memory.
    typealias Frequencies = SIMD8<UInt16>

    struct Posting: Sendable {
        let document: Int32
        let frequencies: Frequencies
    }

    /// Where a term's postings lie in ``documents`` and ``termWeights`` (the postings of all terms end to end:
    /// two arrays per term cost more memory than the postings themselves), and its idf. A posting is a document
    /// and the term's BM25F weight in it already saturated (`tf~ · (k1 + 1) / (k1 + tf~)`): nothing of it depends
    /// on the query, so a search only multiplies by the query weight and the idf and adds.
    struct TermPostings: Sendable {
        let start: Int
        let count: Int32
        let idf: Double
    }

    let articles: [Article]
    /// Positions of the articles private to one tenant, with their tenant.
    let privateArticles: [(position: Int, tenant: String)]
    /// Article ID → position in `articles`.
    let positions: [String: Int]
    let options: SearchOptions
    /// term → its run of postings, sorted by document.
    let postings: [String: TermPostings]
    let documents: [Int32]
    let termWeights: [Float]
    /// Every word of the corpus (stop words too) with what a query needs of it, found with one look-up: how
    /// many articles hold it, its stem, the postings of the word as written and of its stem, its stem's number.
    let lexicon: [String: Word]
    let typos: TypoCorrector
    /// The other way: a stem → the corpus words that have it, so a snippet finds a query's words in an article's
    /// text by looking each word up once.
    let words: [String: [String]]

    struct Word: Sendable {
        let documents: Int
        /// Its Porter stem, unmarked.
        let stem: String
        let exact: TermPostings?
        let stemmed: TermPostings?
        /// The stem's number for proximity, or -1 when no title, description or symptoms holds it.
        let stemNumber: Int32
    }
    /// For proximity: every stem term of the title, description and symptoms as a number, and those fields of
    /// each article as the numbers of their words (stop words left out; -1 between fields), end to end.
    let stemNumbers: [String: Int32]
    let proximityWords: [Int32]
    let proximityStarts: [Int32]

    /// The article vectors and the query encoder, when the index was given them for every article.
    let semantic: SemanticIndex?

    /// Whether searches use the sentence encoder.
    public var isSemantic: Bool { semantic != nil && options.semantic }

    /// What reads a query's meaning: nothing (lexical search), the sentence encoder, or the query encoder
    /// distilled from it.
    public enum QueryEncoding: String, Sendable {
        case none, sentenceEncoder = "sentence encoder", distilled = "distilled query encoder"
    }

    public var queryEncoder: QueryEncoding {
        guard isSemantic, let semantic else { return .none }
        return semantic.distilled != nil && options.distilledQueries ? .distilled : .sentenceEncoder
    }

    /// The distilled query encoder, when the index learned one.
    public var distilledQueryEncoder: DistilledQueryEncoder? { semantic?.distilled }

    /// Forgets the vectors of recent queries, so that latency measurements encode every query.
    public func forgetRecentQueries() {
        semantic?.recentQueries.removeAll()
    }

    /// The sentence encoder of a semantic index.
    public var encoder: SentenceEncoder? { semantic?.encoder }

    /// An index of `articles`; with an encoder and a vector for every article (``SemanticIndex/text(of:)``
    /// encoded), searches also weigh meaning. With `queryTraining` (at least `queryTrainingMinimum` of
    /// ``DistilledQueryEncoder/trainingTexts(of:)`` and their query vectors) it learns a query encoder from them:
    /// seconds of CPU. Or it takes `queryEncoder`, learned before from the same sentence encoder, and learns nothing.
    public init(
        articles: [Article], options: SearchOptions = SearchOptions(),
        semantic: (encoder: SentenceEncoder, vectors: [String: [Float]])? = nil,
        queryTraining: [(text: String, vector: [Float])] = [],
        queryTrainingMinimum: Int = DistilledQueryEncoder.minimumTexts,
        queryEncoder: DistilledQueryEncoder? = nil
    ) {
        let distilled = options.semantic && options.distilledQueries
        self.semantic = semantic.flatMap {
            SemanticIndex(
                encoder: $0.encoder, articles: articles, vectors: $0.vectors,
                queryTraining: distilled ? queryTraining : [], minimum: queryTrainingMinimum,
                reusing: distilled ? queryEncoder : nil)
        }
        self.articles = articles
        self.privateArticles = articles.enumerated().compactMap { position, article in
            article.tenant.map { (position, $0) }
        }
        self.positions = Dictionary(articles.enumerated().map { ($1.id, $0) }, uniquingKeysWith: { _, last in last })
        self.options = options
        // Terms are numbered as they first appear, and each distinct word is looked at once (its stop-word test,
        // stem and term numbers): hashing every occurrence's strings was most of a build's time.
        var termNumbers: [String: Int32] = [:]
        var terms: [String] = []
        func term(_ text: String) -> Int32 {
            if let known = termNumbers[text] { return known }
            let number = Int32(terms.count)
            termNumbers[text] = number
            terms.append(text)
            return number
        }
        struct Token {
            let word: Int32
            /// The word's term and its stem's, or -1 for a stop word.
            let exact: Int32
            let stemmed: Int32
        }
        var tokenNumbers: [String: Token] = [:]
        var wordTexts: [String] = []
        var stems: [String] = []
        func token(_ text: String) -> Token {
            if let known = tokenNumbers[text] { return known }
            let word = Int32(wordTexts.count)
            wordTexts.append(text)
            let plain = PorterStemmer.stem(text)
            stems.append(plain)
            let info =
                Analyzer.stopWords.contains(text)
                ? Token(word: word, exact: -1, stemmed: -1)
                : Token(word: word, exact: term(text), stemmed: term("~" + plain))
            tokenNumbers[text] = info
            return info
        }
        var pairNumbers: [Int64: Int32] = [:]
        // Postings by term number; the current article's frequencies by term, and which terms it touched.
        var collected: [[Posting]] = []
        var current: [Frequencies] = []
        var touched: [Int32] = []
        func count(_ number: Int32, _ field: Int) {
            let index = Int(number)
            if index >= current.count {
                current.append(contentsOf: repeatElement(Frequencies(), count: index + 1 - current.count))
            }
            if current[index] == Frequencies() { touched.append(number) }
            current[index].increment(field)
        }
        var documentCounts: [Int] = []
        var lastArticle: [Int] = []
        var lengths: [[Float]] = []
        lengths.reserveCapacity(articles.count)
        var stemNumberOf: [Int32: Int32] = [:]
        var proximityWords: [Int32] = []
        var proximityStarts: [Int32] = []
        proximityStarts.reserveCapacity(articles.count + 1)
        for (index, article) in articles.enumerated() {
            proximityStarts.append(Int32(proximityWords.count))
            let fields: [String] =
                options.fieldWeights
                ? [
                    article.title, article.description, article.symptoms, article.cause, article.resolution,
                    article.body,
                ]
                : [article.title, "", "", "", "", article.body]
            var fieldLengths = [Float](repeating: 0, count: Self.fieldCount)
            for (field, text) in fields.enumerated() {
                var previous: Token?
                for text in Analyzer.tokens(text) {
                    let token = token(text)
                    let word = Int(token.word)
                    if word >= documentCounts.count {
                        documentCounts.append(0)
                        lastArticle.append(-1)
                    }
                    if lastArticle[word] != index {
                        lastArticle[word] = index
                        documentCounts[word] += 1
                    }
                    guard token.exact >= 0 else { continue }
                    // Each word is indexed as written and, marked, as its stem: an exact match counts more than a
                    // match of another form of the word.
                    count(token.exact, field)
                    if options.stemming { count(token.stemmed, field) }
                    fieldLengths[field] += 1
                    if field < Field.cause.rawValue {
                        if let number = stemNumberOf[token.stemmed] {
                            proximityWords.append(number)
                        } else {
                            let number = Int32(stemNumberOf.count)
                            stemNumberOf[token.stemmed] = number
                            proximityWords.append(number)
                        }
                        // Word pairs of the fields that say what the article is about: a query's phrase counts
                        // more than its words scattered.
                        if options.phrases, let previous {
                            let key = Int64(previous.stemmed) << 32 | Int64(token.stemmed)
                            let pair: Int32
                            if let known = pairNumbers[key] {
                                pair = known
                            } else {
                                pair = term(
                                    Analyzer.pairTerm(
                                        stemmed: stems[Int(previous.word)], stems[Int(token.word)]))
                                pairNumbers[key] = pair
                            }
                            count(pair, field)
                        }
                        previous = token
                    }
                }
                if field < Field.cause.rawValue { proximityWords.append(-1) }
            }
            if collected.count < terms.count {
                collected.append(contentsOf: repeatElement([], count: terms.count - collected.count))
            }
            for number in touched {
                collected[Int(number)].append(Posting(document: Int32(index), frequencies: current[Int(number)]))
                current[Int(number)] = Frequencies()
            }
            touched.removeAll(keepingCapacity: true)
            lengths.append(fieldLengths)
        }
        var stemNumbers: [String: Int32] = [:]
        stemNumbers.reserveCapacity(stemNumberOf.count)
        for (stemmed, number) in stemNumberOf { stemNumbers[terms[Int(stemmed)]] = number }
        let count = Double(max(articles.count, 1))
        let averageLengths = (0..<Self.fieldCount).map { field in
            max(lengths.reduce(0) { $0 + Double($1[field]) } / count, 1)
        }
        let weights = options.fieldWeights ? Self.weights : [Double](repeating: 1, count: Self.fieldCount)
        var postings: [String: TermPostings] = [:]
        postings.reserveCapacity(collected.count)
        let total = collected.reduce(0) { $0 + $1.count }
        var documents: [Int32] = []
        var termWeights: [Float] = []
        documents.reserveCapacity(total)
        termWeights.reserveCapacity(total)
        for (number, list) in collected.enumerated() where !list.isEmpty {
            let term = terms[number]
            let df = Double(list.count)
            postings[term] = TermPostings(
                start: documents.count, count: Int32(list.count), idf: log(1 + (count - df + 0.5) / (df + 0.5)))
            for posting in list {
                var pseudo = 0.0
                for field in 0..<Self.fieldCount where posting.frequencies[field] > 0 {
                    let b = Self.lengthNormalisation[field]
                    let length = Double(lengths[Int(posting.document)][field])
                    pseudo +=
                        weights[field] * Double(posting.frequencies[field])
                        / (1 - b + b * length / averageLengths[field])
                }
                documents.append(posting.document)
                termWeights.append(Float(pseudo * (Self.k1 + 1) / (Self.k1 + pseudo)))
            }
        }
        proximityStarts.append(Int32(proximityWords.count))
        self.stemNumbers = stemNumbers
        self.proximityWords = proximityWords
        self.proximityStarts = proximityStarts
        self.postings = postings
        self.documents = documents
        self.termWeights = termWeights
        var lexicon: [String: Word] = [:]
        var words: [String: [String]] = [:]
        // Typo corrections read as words at least two articles hold.
        var typoVocabulary: [String: Int] = [:]
        lexicon.reserveCapacity(wordTexts.count)
        for (number, word) in wordTexts.enumerated() {
            let documents = documentCounts[number]
            if documents >= 2 && word.utf8.count >= 4 { typoVocabulary[word] = documents }
            let plain = stems[number]
            let stemTerm = "~" + plain
            lexicon[word] = Word(
                documents: documents, stem: plain, exact: postings[word],
                stemmed: options.stemming ? postings[stemTerm] : nil, stemNumber: stemNumbers[stemTerm] ?? -1)
            if !Analyzer.stopWords.contains(word) { words[plain, default: []].append(word) }
        }
        self.lexicon = lexicon
        self.words = words
        self.typos = TypoCorrector(vocabulary: typoVocabulary)
        // The vocabulary tables and weights are built on first use: use them now, while indexing, rather than in
        // the first search.
        _ = QueryPlan(text: "exo warmup", product: nil, index: self)
    }

    /// How many articles the index holds.
    public var count: Int { articles.count }

    /// The indexed article with `id`.
    public func article(id: String) -> Article? {
        positions[id].map { articles[$0] }
    }

    /// The `limit` best articles for `text`, optionally for a named product, among the shared articles and those
    /// private to `tenant`.
    public func search(_ text: String, product: String? = nil, limit: Int = 10, tenant: String? = nil) -> [SearchHit] {
        let plan = QueryPlan(text: text, product: product, index: self)
        guard let semantic, options.semantic else {
            return lexicalRanking(plan, limit: limit, tenant: tenant).map {
                SearchHit(id: articles[$0.position].id, score: $0.score)
            }
        }
        var ranking = lexicalRanking(plan, limit: max(limit, SemanticIndex.depth), tenant: tenant)
        guard let best = ranking.first?.score, best > 0 else { return [] }
        // A word the sentence encoder holds whole (`lawyers`, `invoice`) is a real word it understands, whatever
        // the corpus lacks; one it must split into pieces (`pasword`) is read as its correction.
        let vocabulary = semantic.encoder.tokenizer.vocabulary
        let query = semantic.queryVector(
            plan.corrected(text) { vocabulary[$0] == nil }, distilled: options.distilledQueries)
        let cosines = semantic.similarities(query, positions: ranking.map { Int32($0.position) })
        for index in ranking.indices {
            ranking[index].score = ranking[index].score / best + Double(SemanticIndex.weight * cosines[index])
        }
        ranking.sort {
            $0.score != $1.score ? $0.score > $1.score : articles[$0.position].id < articles[$1.position].id
        }
        return ranking.prefix(max(0, limit)).map { SearchHit(id: articles[$0.position].id, score: $0.score) }
    }

    /// The lexical best for `query`: positions in `articles` and scores, best first.
    func lexicalRanking(_ query: QueryPlan, limit: Int, tenant: String?) -> [(position: Int, score: Double)] {
        var scores = [Double](repeating: 0, count: articles.count)
        for (run, weight) in query.terms {
            let factor = weight * run.idf
            let range = run.start..<run.start + Int(run.count)
            documents.withUnsafeBufferPointer { documents in
                termWeights.withUnsafeBufferPointer { weights in
                    scores.withUnsafeMutableBufferPointer { scores in
                        for index in range {
                            scores[Int(documents[index])] += factor * Double(weights[index])
                        }
                    }
                }
            }
        }
        for (position, owner) in privateArticles where owner != tenant { scores[position] = 0 }
        if options.productBoost, !query.products.isEmpty {
            for index in scores.indices where scores[index] > 0 {
                if let boost = query.products[articles[index].product] { scores[index] *= boost }
            }
        }
        guard options.proximity else {
            return Self.top(scores, limit: limit).map { ($0, scores[$0]) }
        }
        // The query's words found in some title, description or symptoms: stem numbers, sorted, with their idf.
        // (Its stems: with stemming off there are none, and no re-ranking.)
        let wanted = query.stems.sorted { $0.number < $1.number }
        // Re-ranking only raises the best few, so the best `limit` are among them and those before them.
        var candidates = Self.top(scores, limit: max(limit, Self.proximityDepth))
        if wanted.count > 1 {
            var closeness: [Int64: Double] = [:]
            var recent: [(position: Int32, word: Int32)] = []
            for candidate in candidates.prefix(Self.proximityDepth) {
                scores[candidate] +=
                    Self.proximityWeight
                    * proximity(of: candidate, wanted: wanted, closeness: &closeness, recent: &recent)
            }
            candidates.sort { scores[$0] != scores[$1] ? scores[$0] > scores[$1] : $0 < $1 }
        }
        return candidates.prefix(max(0, limit)).map { ($0, scores[$0]) }
    }

    /// The idf of stem `number` if the query wants it (`wanted` sorted by number).
    private static func idf(of number: Int32, in wanted: [(number: Int32, idf: Double)]) -> Double? {
        var low = 0
        var high = wanted.count
        while low < high {
            let middle = (low + high) / 2
            if wanted[middle].number < number { low = middle + 1 } else { high = middle }
        }
        return low < wanted.count && wanted[low].number == number ? wanted[low].idf : nil
    }

    /// Proximity re-ranks the best few: measured, deeper re-ranking changed nothing and cost time.
    static let proximityWeight = tuning("SS_PROX")?.first ?? 1.5
    static let proximityDepth = 10
    static let proximityWindow: Int32 = 6

    /// How close together the query's words stand in an article's title, description and symptoms: for each
    /// two different query words within a few words of each other, `1/distance²`, saturated at 1 per pair of
    /// words and weighted by the rarer word's idf.
    ///
    /// `closeness` (two stem numbers in one key, the smaller first → how close they stood, summed) and `recent`
    /// are the caller's, kept between articles so that each search allocates them once.
    func proximity(
        of article: Int, wanted: [(number: Int32, idf: Double)], closeness: inout [Int64: Double],
        recent: inout [(position: Int32, word: Int32)]
    ) -> Double {
        closeness.removeAll(keepingCapacity: true)
        recent.removeAll(keepingCapacity: true)
        var position: Int32 = 0
        for index in Int(proximityStarts[article])..<Int(proximityStarts[article + 1]) {
            let word = proximityWords[index]
            position += 1
            guard word >= 0 else {
                recent.removeAll(keepingCapacity: true)
                continue
            }
            guard Self.idf(of: word, in: wanted) != nil else { continue }
            recent.removeAll { position - $0.position > Self.proximityWindow }
            for earlier in recent where earlier.word != word {
                let key = Int64(min(earlier.word, word)) << 32 | Int64(max(earlier.word, word))
                let distance = Double(position - earlier.position)
                closeness[key, default: 0] += 1 / (distance * distance)
            }
            recent.append((position, word))
        }
        return closeness.reduce(0) { total, pair in
            let first = Self.idf(of: Int32(truncatingIfNeeded: pair.key >> 32), in: wanted) ?? 0
            let second = Self.idf(of: Int32(truncatingIfNeeded: pair.key), in: wanted) ?? 0
            return total + min(pair.value, 1) * min(first, second)
        }
    }

    /// Indexes of the `limit` highest positive scores, best first (ties by index).
    static func top(_ scores: [Double], limit: Int) -> [Int] {
        // The limit may come from a request: never more than there are documents.
        let limit = min(limit, scores.count)
        guard limit > 0 else { return [] }
        var best = BestOf<ByScore>(capacity: limit)
        for (index, score) in scores.enumerated() where score > 0 { best.offer((index, score)) }
        return best.sorted().map(\.0)
    }

    /// Weaker: a lower score, or the same score and a later document.
    enum ByScore: Ranking {
        static func weaker(_ a: (Int, Double), _ b: (Int, Double)) -> Bool { a.1 != b.1 ? a.1 < b.1 : a.0 > b.0 }
    }
}

extension Article {
    /// Articles from JSON Lines in the corpus format (`id`, `title`, `product`, `url`, `description`, `body`,
    /// optional `symptoms`, `cause`, `resolution`); lines that are not articles come back by number with why.
    public static func readJSONLines(_ data: Data) -> (
        articles: [Article], lines: [Int], refused: [(line: Int, reason: String)]
    ) {
        var articles: [Article] = []
        var lines: [Int] = []
        var refused: [(Int, String)] = []
        for (number, line) in data.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false).enumerated() {
            guard !line.allSatisfy({ $0 == 32 || $0 == 13 }) else { continue }
            guard let object = try? JSONSerialization.jsonObject(with: Data(line)) as? [String: Any] else {
                refused.append((number + 1, "not a JSON object"))
                continue
            }
            guard let id = object["id"] as? String, !id.isEmpty, let title = object["title"] as? String else {
                refused.append((number + 1, "no id or title"))
                continue
            }
            func text(_ name: String) -> String { object[name] as? String ?? "" }
            lines.append(number + 1)
            articles.append(
                Article(
                    id: id, title: title, product: text("product"), url: text("url"), description: text("description"),
                    symptoms: text("symptoms"), cause: text("cause"), resolution: text("resolution"), body: text("body")
                ))
        }
        return (articles, lines, refused)
    }
}

extension SIMD8<UInt16> {
    /// One more occurrence in `field`, saturating.
    fileprivate mutating func increment(_ field: Int) {
        if self[field] < UInt16.max { self[field] += 1 }
    }
}

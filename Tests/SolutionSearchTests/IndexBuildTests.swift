import Foundation
import Testing

@testable import SolutionSearch

/// The index build numbers terms and looks at each distinct word once; this is the build as first written, by
/// strings, kept as the definition of what it must produce.
@Suite struct IndexBuildTests {
    struct Reference {
        var postings: [String: [(document: Int32, frequencies: SolutionIndex.Frequencies)]] = [:]
        var lengths: [[Float]] = []
        var raw: [String: Int] = [:]
        var stemNumbers: [String: Int32] = [:]
        var proximityWords: [Int32] = []
        var proximityStarts: [Int32] = []
    }

    static func reference(_ articles: [Article], options: SearchOptions) -> Reference {
        var result = Reference()
        var collected: [String: [(document: Int32, frequencies: SolutionIndex.Frequencies)]] = [:]
        for (index, article) in articles.enumerated() {
            result.proximityStarts.append(Int32(result.proximityWords.count))
            let fields =
                options.fieldWeights
                ? [
                    article.title, article.description, article.symptoms, article.cause, article.resolution,
                    article.body,
                ]
                : [article.title, "", "", "", "", article.body]
            var counts: [String: SolutionIndex.Frequencies] = [:]
            var fieldLengths = [Float](repeating: 0, count: SolutionIndex.fieldCount)
            var seenRaw = Set<String>()
            func increment(_ term: String, _ field: Int) {
                var frequencies = counts[term, default: SolutionIndex.Frequencies()]
                if frequencies[field] < UInt16.max { frequencies[field] += 1 }
                counts[term] = frequencies
            }
            for (field, text) in fields.enumerated() {
                let tokens = Analyzer.tokens(text)
                for token in tokens {
                    seenRaw.insert(token)
                    guard !Analyzer.stopWords.contains(token) else { continue }
                    increment(token, field)
                    let stemTerm = "~" + PorterStemmer.stem(token)
                    if options.stemming { increment(stemTerm, field) }
                    fieldLengths[field] += 1
                    if field < 3 {
                        let number = result.stemNumbers[stemTerm] ?? Int32(result.stemNumbers.count)
                        result.stemNumbers[stemTerm] = number
                        result.proximityWords.append(number)
                    }
                }
                if field < 3 { result.proximityWords.append(-1) }
                if options.phrases, field < 3 {
                    let words = tokens.filter { !Analyzer.stopWords.contains($0) }
                    for pair in zip(words, words.dropFirst()) {
                        increment(
                            Analyzer.pairTerm(stemmed: PorterStemmer.stem(pair.0), PorterStemmer.stem(pair.1)), field)
                    }
                }
            }
            for token in seenRaw { result.raw[token, default: 0] += 1 }
            for (term, frequencies) in counts { collected[term, default: []].append((Int32(index), frequencies)) }
            result.lengths.append(fieldLengths)
        }
        result.proximityStarts.append(Int32(result.proximityWords.count))
        result.postings = collected
        return result
    }

    static func randomArticles(_ count: Int) -> [Article] {
        var generator = SystemRandomNumberGenerator()
        let words = [
            "Outlook", "outlook", "prompts", "prompting", "prompt", "for", "the", "a", "password", "passwords",
            "Teams", "meeting", "meetings", "0x8004de40", "5.7.133", "can't", "won’t", "20gb", "64bit", "sync",
            "syncing", "synced", "mailbox", "mailboxes", "is", "not", "of", "relational", "é", "naïve", "🙂",
        ]
        func text(_ length: Int) -> String {
            (0..<length).map { _ in words.randomElement(using: &generator)! }.joined(
                separator: [" ", ", ", ". ", "\n"].randomElement(using: &generator)!)
        }
        return (0..<count).map {
            Article(
                id: "\($0)", title: text(Int.random(in: 0...8, using: &generator)), product: "", url: "",
                description: text(Int.random(in: 0...15, using: &generator)),
                symptoms: text(Int.random(in: 0...30, using: &generator)),
                cause: text(Int.random(in: 0...20, using: &generator)),
                resolution: text(Int.random(in: 0...20, using: &generator)),
                body: text(Int.random(in: 0...120, using: &generator)))
        }
    }

    @Test(arguments: [SearchOptions(), SearchOptions.baseline])
    func theBuildMakesWhatTheStringBuildMade(options: SearchOptions) {
        let articles = Self.randomArticles(200)
        let index = SolutionIndex(articles: articles, options: options)
        let expected = Self.reference(articles, options: options)
        #expect(index.stemNumbers == expected.stemNumbers)
        #expect(index.proximityWords == expected.proximityWords)
        #expect(index.proximityStarts == expected.proximityStarts)
        #expect(Dictionary(uniqueKeysWithValues: index.lexicon.map { ($0.key, $0.value.documents) }) == expected.raw)
        #expect(Set(index.postings.keys) == Set(expected.postings.keys))
        // Each term's documents, and its weights as BM25F makes them of the frequencies and lengths.
        let count = Double(articles.count)
        let average = (0..<SolutionIndex.fieldCount).map { field in
            max(expected.lengths.reduce(0) { $0 + Double($1[field]) } / count, 1)
        }
        let weights =
            options.fieldWeights
            ? SolutionIndex.weights : [Double](repeating: 1, count: SolutionIndex.fieldCount)
        var mismatches = 0
        for (term, list) in expected.postings {
            guard let run = index.postings[term] else { continue }
            let range = run.start..<run.start + Int(run.count)
            if Array(index.documents[range]) != list.map(\.document) { mismatches += 1 }
            for (posting, weight) in zip(list, index.termWeights[range]) {
                var pseudo = 0.0
                for field in 0..<SolutionIndex.fieldCount where posting.frequencies[field] > 0 {
                    let b = SolutionIndex.lengthNormalisation[field]
                    let length = Double(expected.lengths[Int(posting.document)][field])
                    pseudo +=
                        weights[field] * Double(posting.frequencies[field]) / (1 - b + b * length / average[field])
                }
                if Float(pseudo * (SolutionIndex.k1 + 1) / (SolutionIndex.k1 + pseudo)) != weight { mismatches += 1 }
            }
        }
        #expect(mismatches == 0)
    }
}

import Foundation
import Testing

@testable import SolutionSearch

/// The lexical best re-scored with the sentence encoder: meaning found in other words, codes still first.
@Suite(.enabled(if: InstalledModel.encoder != nil)) struct SemanticSearchTests {
    static let articles = [
        // The words of "outlook hangs" favour the short article; its meaning, the long one.
        Article(
            id: "pauses",
            title: "Application pauses for seconds at a time in Outlook for Windows with a large data file",
            product: "Outlook", url: "https://x.test/1",
            description:
                "The application stops responding briefly, then goes on, when the personal folders file in the profile is large."
        ),
        Article(
            id: "timezone", title: "Outlook shows the wrong time zone", product: "Outlook", url: "https://x.test/2",
            description: "Meetings appear an hour off in the calendar."),
        Article(
            id: "viva", title: "Viva Engage app can't sign in", product: "Viva", url: "https://x.test/3",
            description: "The Viva Engage mobile app fails at the sign-in screen."),
        Article(
            id: "onedrive", title: "OneDrive sign-in error 0x8004de40", product: "OneDrive", url: "https://x.test/3",
            description: "OneDrive can't connect to the service.",
            symptoms:
                "The OneDrive sync app shows 'There was a problem connecting to OneDrive' with error code 0x8004de40."),
        Article(
            id: "ndr", title: "Non-delivery report 550 5.7.1 when sending to a group", product: "Exchange Online",
            url: "https://x.test/4", description: "Mail to a distribution list bounces with 550 5.7.1.",
            symptoms: "Senders outside the organization get NDR 550 5.7.1 when they write to a distribution group."),
    ]

    static func index(_ articles: [Article] = articles, options: SearchOptions = SearchOptions()) throws
        -> SolutionIndex
    {
        let encoder = try #require(InstalledModel.encoder)
        let vectors = Dictionary(
            uniqueKeysWithValues: articles.map { ($0.id, encoder.encode(SemanticIndex.text(of: $0))) })
        return SolutionIndex(articles: articles, options: options, semantic: (encoder, vectors))
    }

    @Test func findsTheArticleThatSaysItInOtherWords() throws {
        let query = "outlook hangs"
        let semantic = try Self.index()
        #expect(semantic.isSemantic)
        #expect(semantic.search(query).first?.id == "pauses")
        // The words alone favour the app that asks for credentials.
        var lexical = SearchOptions()
        lexical.semantic = false
        let words = try Self.index(options: lexical)
        #expect(!words.isSemantic)
        #expect(words.search(query).first?.id == "timezone")
    }

    @Test func errorCodesStayFirst() throws {
        let index = try Self.index()
        #expect(index.search("getting 0x8004de40").first?.id == "onedrive")
        #expect(index.search("550 5.7.1").first?.id == "ndr")
    }

    @Test func keepsTheLexicalCandidatesAndTheLimit() throws {
        let index = try Self.index()
        // Only articles with a word of the query are candidates: meaning re-scores, it does not invent matches.
        #expect(index.search("zzzz qqqq").isEmpty)
        #expect(index.search("sign in", limit: 1).count == 1)
        #expect(index.search("sign in", limit: 0).isEmpty)
        let hits = index.search("sign in problems with credentials", limit: 10)
        #expect(hits.map(\.score) == hits.map(\.score).sorted(by: >))
    }

    @Test func anArticleWithoutAVectorLeavesTheIndexLexical() throws {
        let encoder = try #require(InstalledModel.encoder)
        let vectors = ["pauses": encoder.encode(SemanticIndex.text(of: Self.articles[0]))]
        let index = SolutionIndex(articles: Self.articles, semantic: (encoder, vectors))
        #expect(!index.isSemantic)
        #expect(index.search("outlook hangs").first?.id == "timezone")
        // A vector of another size is as good as none.
        let wrong = Dictionary(uniqueKeysWithValues: Self.articles.map { ($0.id, [Float](repeating: 0.1, count: 3)) })
        #expect(!SolutionIndex(articles: Self.articles, semantic: (encoder, wrong)).isSemantic)
    }

    @Test func aMisspellingIsEncodedAsItsCorrectionAndARealWordAsWritten() throws {
        let index = try Self.index()
        let semantic = try #require(index.semantic)
        let misspelled = index.search("outlok hangs").map(\.id)
        func encoded(_ text: String) -> Bool { semantic.recentQueries[text] != nil }
        #expect(encoded("outlook hangs") && !encoded("outlok hangs"))
        #expect(misspelled == index.search("outlook hangs").map(\.id))
        // `sing` is one swap from the corpus's `sign`, and the words search both; the encoder knows `sing` whole.
        #expect(QueryPlan(text: "viva sing in", product: nil, index: index).corrections == ["sing": "sign"])
        _ = index.search("viva sing in")
        #expect(encoded("viva sing in") && !encoded("viva sign in"))
    }

    @Test func longAndOddTextsEncode() throws {
        let encoder = try #require(InstalledModel.encoder)
        for text in ["", " ", String(repeating: "outlook ", count: 5000), "\u{0}\u{FFFD}\u{200B}", "🙂🙂", "中文字"] {
            let vector = encoder.encode(text)
            #expect(vector.count == 384)
            #expect(vector.allSatisfy { $0.isFinite })
        }
    }
}

@Suite struct QueryVectorCacheTests {
    @Test func keepsTheLastQueriesOnly() {
        let cache = QueryVectorCache(capacity: 2)
        cache["a"] = [1]
        cache["b"] = [2]
        cache["a"] = [3]
        cache["c"] = [4]
        #expect(cache["a"] == nil)
        #expect(cache["b"] == [2] && cache["c"] == [4])
        cache[String(repeating: "x", count: 30_000)] = [5]
        #expect(cache[String(repeating: "x", count: 30_000)] == nil)
        cache.removeAll()
        #expect(cache["b"] == nil)
    }
}

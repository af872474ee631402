import Foundation
import SQLKit
import SolutionSearch
import TestSupport
import Testing
import Vapor

@testable import Connector

/// The knowledge base's semantic index: articles encoded in the background at the first start (searches lexical
/// meanwhile), vectors kept by what was encoded, an edited article encoded again and its old vector dropped.
@Suite(.enabled(if: InstalledSemanticModel.folder != nil)) struct SemanticCatalogTests {
    static func vectorCount(_ fx: ConnectorFixture) async throws -> Int {
        try await fx.connector.db.asSQL().select().column(SQLFunction("COUNT", args: SQLLiteral.all), as: "n")
            .from(ArticleVectors.table).first()?.decode(column: "n", as: Int.self) ?? -1
    }

    @Test func encodesInTheBackgroundThenSearchesByMeaning() async throws {
        try await withConnector(configure: { $0.semanticModel = InstalledSemanticModel.folder }) { fx in
            let catalog = fx.connector.connector.solutions
            #expect(try await poll(timeout: .seconds(300)) { catalog.index.isSemantic })
            #expect(!catalog.isEncoding)
            let knowledgeBase = KnowledgeBase(database: fx.connector.db)
            #expect(try await Self.vectorCount(fx) == KnowledgeBaseTests.starterCount)

            // Through the endpoint: credentials asked again and again is Outlook's password prompt, which the
            // words alone rank below the Viva Engage sign-in.
            let token = try await RecommendedSolutionsTests.registerDesk(fx)
            let text = "the mail app on my laptop wants my credentials again and again"
            let (response, answer) = try await RecommendedSolutionsTests.recommend(
                fx, token: token, #"{"text":"\#(text)","top":3}"#)
            #expect(response.status == .ok, "\(response.body.string)")
            #expect(answer?.solutions.first?.id == "starter/outlook-repeated-password-prompts")
            var lexical = SearchOptions()
            lexical.semantic = false
            let words = SolutionIndex(articles: try await knowledgeBase.articles(), options: lexical)
            #expect(words.search(text).first?.id != "starter/outlook-repeated-password-prompts")

            // An edit: the article's new text is encoded, the old vector goes; the index is semantic again.
            var article = try #require(try await knowledgeBase.article(id: "starter/word-slow-typing"))
            article.description = "Word lags behind the keyboard: letters show up seconds after they are typed."
            _ = try await knowledgeBase.save(article)
            try await catalog.refresh(from: knowledgeBase, logger: fx.connector.logger)
            #expect(try await poll(timeout: .seconds(60)) { catalog.index.isSemantic && !catalog.isEncoding })
            let encoder = try #require(catalog.index.encoder)
            let stored = try await ArticleVectors(database: fx.connector.db)
                .stored(for: try await knowledgeBase.articles(), encoder: encoder)
            #expect(stored.missing.isEmpty)
            #expect(try await Self.vectorCount(fx) == KnowledgeBaseTests.starterCount)
        }
    }

    @Test func aStopEndsTheEncodingBetweenBatches() async throws {
        try await withConnector(configure: { $0.semanticModel = InstalledSemanticModel.folder }) { fx in
            let catalog = fx.connector.connector.solutions
            await catalog.stop()
            #expect(!catalog.isEncoding)
            // Stopped for good: a later change starts no encoding.
            let knowledgeBase = KnowledgeBase(database: fx.connector.db)
            _ = try await knowledgeBase.save(.init(id: "new/one", title: "Teams freezes", url: "https://x.test"))
            try await catalog.refresh(from: knowledgeBase, logger: fx.connector.logger)
            #expect(!catalog.isEncoding)
            #expect(!catalog.index.isSemantic)
        }
    }

    @Test func aModelThatCannotBeReadLeavesTheSearchLexical() async throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("no-model-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        try Data("[UNK]\n[CLS]\n[SEP]\n".utf8).write(to: folder.appendingPathComponent("vocab.txt"))
        try Data("not a model".utf8).write(to: folder.appendingPathComponent("model.safetensors"))
        try await withConnector(configure: { $0.semanticModel = folder }) { fx in
            let catalog = fx.connector.connector.solutions
            #expect(!catalog.index.isSemantic && !catalog.isEncoding)
            #expect(catalog.index.search("outlook password").first?.id == "starter/outlook-repeated-password-prompts")
        }
    }
}

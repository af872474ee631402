import Crypto
import Foundation
import SQLKit
import ServerSupport
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

    /// A Connector on the starter set once it has learned its query encoder. The starter set has a few hundred
    /// sentences; a real knowledge base needs 2,000 (the default minimum).
    static func withLearnedQueryEncoder(_ body: (ConnectorFixture) async throws -> Void) async throws {
        try await withConnector(configure: {
            $0.semanticModel = InstalledSemanticModel.folder
            $0.distillationMinimum = 50
        }) { fx in
            let catalog = fx.connector.connector.solutions
            #expect(
                try await poll(timeout: .seconds(300)) {
                    catalog.index.queryEncoder == .distilled && !catalog.isEncoding
                })
            try await body(fx)
        }
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

            // An edit: the article's new text is encoded during the rebuild (the index never turns lexical), the
            // old vector goes.
            var article = try #require(try await knowledgeBase.article(id: "starter/word-slow-typing"))
            article.description = "Word lags behind the keyboard: letters show up seconds after they are typed."
            _ = try await knowledgeBase.save(article)
            try await catalog.refresh(from: knowledgeBase, logger: fx.connector.logger)
            #expect(catalog.index.isSemantic && !catalog.isEncoding)
            let encoder = try #require(catalog.index.encoder)
            let stored = try await ArticleVectors(database: fx.connector.db)
                .stored(for: try await knowledgeBase.articles(), encoder: encoder)
            #expect(stored.missing.isEmpty)
            #expect(try await Self.vectorCount(fx) == KnowledgeBaseTests.starterCount)
        }
    }

    /// Instances on processors with and without 8-bit products store vectors under different model names; each
    /// prunes its own, and another model's only after a month (an older encoding revision's, say).
    @Test func aPruneLeavesAnotherModelsRecentVectors() async throws {
        try await withConnector(configure: { $0.semanticModel = InstalledSemanticModel.folder }) { fx in
            let catalog = fx.connector.connector.solutions
            #expect(try await poll(timeout: .seconds(300)) { catalog.index.isSemantic && !catalog.isEncoding })
            let encoder = try #require(catalog.index.encoder)
            let sql = try fx.connector.db.asSQL()
            let now = Date()
            let vector = ArticleVectors.data([Float](repeating: 0.5, count: encoder.dimensions))
            let rows: [(key: String, model: String?, age: Double)] = [
                ("other-recent", encoder.modelName + "/other", 29 * 86_400), ("other-old", "older/1", 31 * 86_400),
                ("unnamed", nil, 0), ("mine-unused", encoder.modelName, 0),
            ]
            for row in rows {
                try await sql.insert(into: ArticleVectors.table)
                    .columns("vector_key", "vector", "created_at", "model")
                    .values(
                        SQLBind(row.key), SQLBind(vector), SQLBind(now.timeIntervalSince1970 - row.age),
                        SQLBind(row.model)
                    ).run()
            }
            let articles = try await KnowledgeBase(database: fx.connector.db).articles()
            let store = ArticleVectors(database: fx.connector.db)
            #expect(try await store.prune(keeping: articles, encoder: encoder, now: now) == 3)
            let left = try await sql.select().column("vector_key").from(ArticleVectors.table).all()
                .map { try $0.decode(column: "vector_key", as: String.self) }
            #expect(left.contains("other-recent"))
            #expect(!left.contains("other-old") && !left.contains("unnamed") && !left.contains("mine-unused"))
            #expect(try await store.stored(for: articles, encoder: encoder).missing.isEmpty)
            let models = try await sql.select().column("model").from(ArticleVectors.table).all()
                .map { try $0.decode(column: "model", as: String?.self) }
            #expect(models.filter { $0 == encoder.modelName }.count == KnowledgeBaseTests.starterCount)
        }
    }

    @Test func learnsAQueryEncoderFromTheKnowledgeBasesSentences() async throws {
        try await Self.withLearnedQueryEncoder { fx in
            let catalog = fx.connector.connector.solutions
            let knowledgeBase = KnowledgeBase(database: fx.connector.db)
            let sentences = DistilledQueryEncoder.trainingTexts(of: try await knowledgeBase.articles())
            #expect(sentences.count >= 50)
            #expect(try await Self.vectorCount(fx) == KnowledgeBaseTests.starterCount + sentences.count)
            #expect(catalog.index.distilledQueryEncoder?.trainedOn == sentences.count)

            // The endpoint answers with the learned encoder reading the text, as the index ranks it.
            let token = try await RecommendedSolutionsTests.registerDesk(fx)
            let text = "outlook keeps asking for my password"
            let (response, answer) = try await RecommendedSolutionsTests.recommend(
                fx, token: token, #"{"text":"\#(text)","top":3}"#)
            #expect(response.status == .ok, "\(response.body.string)")
            #expect(answer?.solutions.map(\.id) == catalog.index.search(text, limit: 3).map(\.id))
            #expect(answer?.solutions.first?.id == "starter/outlook-repeated-password-prompts")

            // An edit: its new sentences are encoded, those no article has any more are dropped.
            var article = try #require(try await knowledgeBase.article(id: "starter/word-slow-typing"))
            article.description = "Word lags behind the keyboard: letters show up seconds after they are typed."
            _ = try await knowledgeBase.save(article)
            try await catalog.refresh(from: knowledgeBase, logger: fx.connector.logger)
            #expect(
                try await poll(timeout: .seconds(120)) {
                    catalog.index.queryEncoder == .distilled && !catalog.isEncoding
                })
            let now = DistilledQueryEncoder.trainingTexts(of: try await knowledgeBase.articles())
            #expect(now.contains("Word lags behind the keyboard: letters show up seconds after they are typed."))
            let encoder = try #require(catalog.index.encoder)
            #expect(
                try await ArticleVectors(database: fx.connector.db).stored(sentences: now, encoder: encoder)
                    .missing.isEmpty)
            #expect(try await Self.vectorCount(fx) == KnowledgeBaseTests.starterCount + now.count)
        }
    }

    @Test func theQueryEncoderIsKeptWhileTheSentencesHardlyChange() async throws {
        try await Self.withLearnedQueryEncoder { fx in
            let catalog = fx.connector.connector.solutions
            #expect(catalog.queryEncoderLearnings == 1)
            let knowledgeBase = KnowledgeBase(database: fx.connector.db)
            let encoder = try #require(catalog.index.encoder)
            let vectors = ArticleVectors(database: fx.connector.db)

            // A description in words the knowledge base has: the index is rebuilt with the same query encoder,
            // and the new sentence is encoded for the next learning.
            let sentences = DistilledQueryEncoder.trainingTexts(of: try await knowledgeBase.articles())
            let known = try #require(sentences.first { $0.split(separator: " ").count >= 5 })
            let reworded = known.split(separator: " ").reversed().joined(separator: " ")
            var article = try #require(try await knowledgeBase.article(id: "starter/word-slow-typing"))
            article.description = reworded
            _ = try await knowledgeBase.save(article)
            try await catalog.refresh(from: knowledgeBase, logger: fx.connector.logger)
            #expect(catalog.index.queryEncoder == .distilled)
            #expect(
                try await poll(timeout: .seconds(120)) {
                    guard !catalog.isEncoding else { return false }
                    return try await vectors.stored(sentences: [reworded], encoder: encoder).missing.isEmpty
                })
            #expect(catalog.queryEncoderLearnings == 1)

            // Words it never learned: once their sentence is encoded, it learns again, from the sentences now.
            article.description = "A zeppelin hovers over the volcano near the giraffes."
            _ = try await knowledgeBase.save(article)
            try await catalog.refresh(from: knowledgeBase, logger: fx.connector.logger)
            #expect(catalog.index.queryEncoder == .distilled)
            #expect(
                try await poll(timeout: .seconds(120)) {
                    catalog.queryEncoderLearnings == 2 && !catalog.isEncoding
                })
            let now = DistilledQueryEncoder.trainingTexts(of: try await knowledgeBase.articles())
            #expect(catalog.index.distilledQueryEncoder?.trainedOn == now.count)
            // The one learned now is kept for the next start, beside the first.
            #expect(try await Self.storedQueryEncoders(fx) == 2)
            #expect(catalog.index.search("zeppelin").first?.id == "starter/word-slow-typing")
        }
    }

    static func storedQueryEncoders(_ fx: ConnectorFixture) async throws -> Int {
        try await fx.connector.db.asSQL().select().column(SQLFunction("COUNT", args: SQLLiteral.all), as: "n")
            .from(QueryEncoders.table).first()?.decode(column: "n", as: Int.self) ?? -1
    }

    @Test func aRestartReadsTheQueryEncoderLearnedBefore() async throws {
        try await Self.withLearnedQueryEncoder { fx in
            let catalog = fx.connector.connector.solutions
            #expect(try await Self.storedQueryEncoders(fx) == 1)
            // Another process on the same database (a restart, a second instance): nothing learned, the same
            // answers.
            let restarted = SolutionCatalog(
                model: InstalledSemanticModel.folder, distilledQueries: true, distillationMinimum: 50)
            let knowledgeBase = KnowledgeBase(database: fx.connector.db)
            try await restarted.refresh(from: knowledgeBase, logger: fx.connector.logger)
            #expect(restarted.index.queryEncoder == .distilled)
            #expect(restarted.queryEncoderLearnings == 0)
            #expect(restarted.index.distilledQueryEncoder?.trainedOn == catalog.index.distilledQueryEncoder?.trainedOn)
            for text in ["the mail app wants my credentials again", "teams meeting has no record button"] {
                #expect(restarted.index.search(text) == catalog.index.search(text), "\(text)")
            }
            await restarted.stop()
        }
    }

    @Test func aModelKeepsItsNewestQueryEncodersAndOtherModelsTheirRecentOnes() async throws {
        try await Self.withLearnedQueryEncoder { fx in
            let learned = try #require(fx.connector.connector.solutions.index.distilledQueryEncoder)
            let encoder = try #require(fx.connector.connector.solutions.index.encoder)
            let store = QueryEncoders(database: fx.connector.db)
            let sql = try fx.connector.db.asSQL()
            let start = Date()
            for (model, age) in [("another model", 31.0), ("a third model", 29.0)] {
                try await sql.insert(into: QueryEncoders.table).columns("encoder_key", "model", "encoder", "created_at")
                    .values(
                        SQLBind(model), SQLBind(model), SQLBind(Data([1])),
                        SQLBind(start.timeIntervalSince1970 - age * 86_400)
                    ).run()
            }
            // Learned from four sets of sentences, one after another; then the first again.
            for (offset, name) in ["a", "b", "c", "d", "a"].enumerated() {
                try await store.store(
                    learned, sentences: ["sentences \(name)"], now: start.addingTimeInterval(Double(offset + 1)))
            }
            let models = try await sql.select().column("model").from(QueryEncoders.table).all()
                .map { try $0.decode(column: "model", as: String.self) }
            #expect(models.filter { $0 == learned.modelName }.count == QueryEncoders.keptPerModel)
            #expect(Set(models.filter { $0 != learned.modelName }) == ["a third model"])
            for (name, kept) in [("a", true), ("b", false), ("c", true), ("d", true)] {
                let found = try await store.stored(sentences: ["sentences \(name)"], encoder: encoder)
                #expect((found != nil) == kept, "\(name)")
            }
        }
    }

    @Test func theSentenceEncoderReadsQueriesWhenConfiguredSo() async throws {
        try await withConnector(configure: {
            $0.semanticModel = InstalledSemanticModel.folder
            $0.distillationMinimum = 50
            $0.distilledQueries = false
        }) { fx in
            let catalog = fx.connector.connector.solutions
            let ready = try await poll(timeout: .seconds(300)) { catalog.index.isSemantic && !catalog.isEncoding }
            #expect(ready)
            #expect(catalog.index.queryEncoder == .sentenceEncoder)
            // No sentences encoded for a query encoder that is not wanted.
            let stored = try await Self.vectorCount(fx)
            #expect(stored == KnowledgeBaseTests.starterCount)
        }
    }

    @Test func theQueryEncoderIsConfigured() throws {
        func load(_ value: String?) throws -> ConnectorConfig {
            try ConnectorConfig.load(
                environment: EnvironmentReader(value.map { ["M365_CONNECTOR_QUERY_ENCODER": $0] } ?? [:]),
                dataDirectory: FileManager.default.temporaryDirectory, tls: nil,
                masterKey: MasterKey(key: SymmetricKey(size: .bits256)))
        }
        #expect(try load(nil).distilledQueries)
        #expect(try load("distilled").distilledQueries)
        #expect(try !load("sentence-encoder").distilledQueries)
        #expect(throws: ConfigurationError.self) { try load("fast") }
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

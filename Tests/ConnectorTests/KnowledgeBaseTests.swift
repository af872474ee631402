import Foundation
import SolutionSearch
import Testing
import Vapor
import WireModels

@testable import Connector

/// The knowledge base's import: by ID, in batches, bad lines reported by number and nothing of them written.
@Suite struct KnowledgeBaseTests {
    static func line(_ id: String, title: String) -> String {
        #"{"id":"\#(id)","title":"\#(title)","product":"Outlook","url":"https://example.test/\#(id)","description":"d","body":"b"}"#
    }

    static let starterCount = 24

    @Test func vectorKeysAreTheSHA256OfTheirTextInHex() {
        // Stored vectors are found by these keys: their form never changes.
        #expect(
            ArticleVectors.hash("abc") == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        #expect(ArticleVectors.hash("") == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
    }

    @Test func theStarterSetAnswersFromTheFirstStart() async throws {
        try await withConnector { fx in
            let articles = try await KnowledgeBase(database: fx.connector.db).articles()
            #expect(articles.count == Self.starterCount)
            #expect(Set(articles.map(\.product)).count >= 10)
            let index = SolutionIndex(articles: articles)
            #expect(
                index.search("outlook keeps asking for my pasword").first?.id
                    == "starter/outlook-repeated-password-prompts")
            #expect(index.search("no record button in the teams meeting").first?.id == "starter/teams-no-record-button")
            #expect(index.search("OD4B error 0x8004de40").first?.id == "starter/onedrive-sign-in-0x8004de40")
        }
    }

    @Test func changesMadeAtOnceAllLand() async throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("kb-at-once-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        try await withConnector(database: .sqliteFile(folder.appendingPathComponent("connector.sqlite"))) { fx in
            // Sixteen saves and retirements at once on an SQLite file, as the Connector runs by default: each reads
            // before it writes, and they wait for one another instead of failing with "database is locked".
            let knowledgeBase = KnowledgeBase(database: fx.connector.db)
            let before = try await knowledgeBase.revision()
            try await withThrowingTaskGroup(of: Void.self) { group in
                for number in 0..<16 {
                    group.addTask {
                        _ = try await knowledgeBase.save(
                            KnowledgeArticle(id: "at-once/\(number)", title: "Article \(number) written at once"))
                        if number % 4 == 0 { _ = try await knowledgeBase.retire(id: "at-once/\(number)") }
                    }
                }
                try await group.waitForAll()
            }
            let articles = try await knowledgeBase.articles()
            #expect(articles.filter { $0.id.hasPrefix("at-once/") }.count == 12)
            #expect(try await knowledgeBase.revision() == before + 20)
        }
    }

    @Test func aFileWithAnIdTwiceImportsItsLaterLine() async throws {
        try await withConnector { fx in
            let knowledgeBase = KnowledgeBase(database: fx.connector.db, now: fx.clock.provider)
            // Both in one batch (a primary key failure before), and once more in the next batch.
            var lines = [Self.line("twice", title: "First"), Self.line("other", title: "Other")]
            lines.append(Self.line("twice", title: "Second"))
            lines += (0..<KnowledgeBase.batchSize).map { Self.line("filler/\($0)", title: "Filler \($0)") }
            lines.append(Self.line("twice", title: "Third"))
            let report = try await knowledgeBase.importJSONLines(Data(lines.joined(separator: "\n").utf8))
            #expect(report.inserted == KnowledgeBase.batchSize + 2 && report.updated == 0)
            #expect(report.refused.map(\.line) == [1, 3])
            #expect(report.refused.first?.reason == "the same id comes again on line 3, which is imported")
            let articles = try await knowledgeBase.articles()
            #expect(articles.filter { $0.id == "twice" }.map(\.title) == ["Third"])
        }
    }

    @Test func importsInsertsUpdatesAndReportsBadLines() async throws {
        try await withConnector { fx in
            let knowledgeBase = KnowledgeBase(database: fx.connector.db, now: fx.clock.provider)
            var lines = (0..<(KnowledgeBase.batchSize + 5)).map { Self.line("a/\($0)", title: "Article \($0)") }
            lines.insert("not json", at: 3)
            lines.insert(#"{"id":"","title":"no id"}"#, at: 7)
            lines.insert(#"{"id":"nul","title":"t","body":"a\u0000b"}"#, at: 9)
            var progress: [Int] = []
            let report = try await knowledgeBase.importJSONLines(Data(lines.joined(separator: "\n").utf8)) {
                written, _ in
                progress.append(written)
            }
            #expect(report.inserted == KnowledgeBase.batchSize + 5 && report.updated == 0)
            #expect(report.refused.map(\.line) == [4, 8, 10])
            #expect(progress == [KnowledgeBase.batchSize, KnowledgeBase.batchSize + 5])
            let again = try await knowledgeBase.importJSONLines(Data(Self.line("a/1", title: "Renamed").utf8))
            #expect(again.inserted == 0 && again.updated == 1)
            let articles = try await knowledgeBase.articles()
            // Beside the starter articles imported at the first start.
            #expect(articles.count == KnowledgeBase.batchSize + 5 + Self.starterCount)
            #expect(articles.contains { $0.id.hasPrefix("starter/") })
            #expect(articles.first { $0.id == "a/1" }?.title == "Renamed")
            #expect(!articles.contains { $0.id == "nul" })
            // The search engine takes them as they are.
            #expect(SolutionIndex(articles: articles).search("renamed").first?.id == "a/1")
        }
    }
}

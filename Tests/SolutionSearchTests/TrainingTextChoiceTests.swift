import Foundation
import TestSupport
import Testing

@testable import SolutionSearch

/// Training texts chosen again after edits, reading only the changed articles, are the texts chosen from scratch.
@Suite struct TrainingTextChoiceTests {
    /// Articles whose sentences come from a shared pool (repeats across articles, some in another case, some not
    /// ASCII), so that which article holds a text first matters.
    struct Writer {
        var random: SeededRandom
        let pool: [String]

        init(seed: UInt64) {
            random = SeededRandom(seed: seed)
            let words = [
                "outlook", "prompts", "password", "teams", "meeting", "mailbox", "sync", "error", "fails", "naïve",
                "Ärger", "calendar", "shared", "folder", "license", "activation", "mac", "edit", "word", "excel",
            ]
            var generator = SeededRandom(seed: seed &+ 1)
            pool = (0..<120).map { _ in
                (0..<Int.random(in: 3...9, using: &generator)).map { _ in words.randomElement(using: &generator)! }
                    .joined(separator: " ")
            }
        }

        mutating func sentence() -> String {
            let text = pool.randomElement(using: &random)!
            return Bool.random(using: &random) ? text : text.uppercased()
        }

        mutating func field(_ most: Int) -> String {
            (0..<Int.random(in: 0...most, using: &random)).map { _ in sentence() + "." }.joined(
                separator: Bool.random(using: &random) ? " " : "\n")
        }

        mutating func article(_ id: String) -> Article {
            Article(
                id: id, title: sentence(), product: "", url: "", description: field(2), symptoms: field(4),
                cause: field(2), resolution: field(3), body: field(8))
        }
    }

    @Test func editsReadOnlyTheChangedArticlesAndChooseWhatAFreshChoiceChooses() {
        for seed in UInt64(1)...4 {
            var writer = Writer(seed: seed)
            var articles = (0..<80).map { writer.article("a\($0)") }
            for limit in [10, 40] {
                var choice = TrainingTextChoice(limit: limit)
                #expect(choice.texts(of: articles) == DistilledQueryEncoder.trainingTexts(of: articles, limit: limit))
                #expect(choice.articlesRead == articles.count)
                var readLess = 0
                for step in 0..<12 {
                    var changed = 0
                    switch step % 4 {
                    case 0:
                        // A few articles edited.
                        for _ in 0..<3 {
                            let index = Int.random(in: 0..<articles.count, using: &writer.random)
                            articles[index] = writer.article(articles[index].id)
                        }
                        changed = 3
                    case 1:
                        articles.append(writer.article("new-\(limit)-\(step)"))
                        changed = 1
                    case 2:
                        articles.remove(at: Int.random(in: 0..<articles.count, using: &writer.random))
                    default:
                        // Another order: which article holds a text first may change, nothing is read.
                        articles.shuffle(using: &writer.random)
                    }
                    let expected = DistilledQueryEncoder.trainingTexts(of: articles, limit: limit)
                    #expect(choice.texts(of: articles) == expected, "seed \(seed), limit \(limit), step \(step)")
                    // At most the changed ones (fewer when an edit wrote the same text again), unless too few
                    // candidates stayed under the ceiling and every article was read.
                    #expect(choice.articlesRead <= changed || choice.articlesRead == articles.count)
                    if choice.articlesRead < articles.count { readLess += 1 }
                }
                #expect(readLess >= 9, "seed \(seed), limit \(limit): \(readLess) of 12 read less than all")
            }
        }
    }

    @Test func aKnowledgeBaseEmptiedOfCandidatesIsReadWhole() {
        var writer = Writer(seed: 9)
        var articles = (0..<60).map { writer.article("a\($0)") }
        var choice = TrainingTextChoice(limit: 50)
        _ = choice.texts(of: articles)
        // Most articles gone: too few candidates under the ceiling, so all are read again.
        articles.removeFirst(55)
        #expect(choice.texts(of: articles) == DistilledQueryEncoder.trainingTexts(of: articles, limit: 50))
        #expect(choice.articlesRead == articles.count)
        // Unchanged since: nothing read.
        #expect(choice.texts(of: articles) == DistilledQueryEncoder.trainingTexts(of: articles, limit: 50))
        #expect(choice.articlesRead == 0)
        #expect(choice.texts(of: []) == [] && TrainingTextChoice(limit: 0).limit == 0)
    }
}

import Foundation
import TestSupport
import Testing

@testable import SolutionSearch

/// The slips `kb eval --misspell` puts into labelled queries: one edit per chosen word, as people type.
@Suite struct MisspellerTests {
    static let text =
        "Outlook keeps asking for my password after the update, error 0x8004de40 and AADSTS50076 on café wifi"

    @Test func eachSlipIsOneEditThatKeepsTheFirstLetter() {
        for seed in UInt64(0)..<200 {
            let (text, words) = Misspeller(rate: 0.5, seed: seed).misspell(Self.text)
            let before = Self.text.split(separator: " ").map(String.init)
            let after = text.split(separator: " ").map(String.init)
            #expect(before.count == after.count)
            var changed = 0
            for (old, new) in zip(before, after) where old != new {
                changed += 1
                let (oldWord, newWord) = (
                    old.trimmingCharacters(in: .punctuationCharacters),
                    new.trimmingCharacters(in: .punctuationCharacters)
                )
                #expect(TypoCorrector.distance(oldWord.lowercased(), newWord.lowercased()) == 1, "\(old) → \(new)")
                #expect(oldWord.first == newWord.first)
                #expect(oldWord.count >= 4 && oldWord.allSatisfy { $0.isASCII && $0.isLetter })
            }
            #expect(changed == words && words >= 1)
        }
    }

    @Test func codesShortWordsAndNamesWithAccentsAreLeftAlone() {
        let text = "0x8004de40 AADSTS50076 café on my pc"
        for seed in UInt64(0)..<100 {
            #expect(Misspeller(rate: 1, seed: seed).misspell(text) == (text, 0))
        }
        #expect(Misspeller(rate: 1, seed: 1).misspell("") == ("", 0))
    }

    @Test func theSameSeedGivesTheSameSlipsAndTheRateCountsWords() {
        let a = Misspeller(rate: 0.3, seed: 7).misspell(Self.text)
        #expect(Misspeller(rate: 0.3, seed: 7).misspell(Self.text) == a)
        let seeds = UInt64(0)..<50
        #expect(Set(seeds.map { Misspeller(rate: 0.3, seed: $0).misspell(Self.text).text }).count > 25)
        // Eight words of four letters or more, not codes or accented: at a rate of 1 each gets a slip.
        #expect(Misspeller(rate: 1, seed: 3).misspell(Self.text).words == 8)
        #expect(Misspeller(rate: 0, seed: 3).misspell(Self.text) == (Self.text, 0))
        #expect(Misspeller(rate: .nan, seed: 3).rate == 0 && Misspeller(rate: 9, seed: 3).rate == 1)
        let mean = seeds.map { Double(Misspeller(rate: 0.3, seed: $0).misspell(Self.text).words) }.reduce(0, +) / 50
        #expect(mean > 2.5 && mean < 4.5)
    }

    @Test func randomTextNeverTraps() {
        var random = SeededRandom(seed: 11)
        let pieces = ["a", "Z", "é", "🙂", " ", "-", "0", "\u{0}", "\r\n", "word", "WORDS", "x9", "'"]
        for _ in 0..<2_000 {
            let text = (0..<Int.random(in: 0...30, using: &random)).map { _ in pieces.randomElement(using: &random)! }
                .joined()
            let (slipped, words) = Misspeller(rate: Double.random(in: 0...1, using: &random), seed: random.next())
                .misspell(text)
            #expect(words >= 0 && slipped.utf8.count <= text.utf8.count + words)
        }
    }
}

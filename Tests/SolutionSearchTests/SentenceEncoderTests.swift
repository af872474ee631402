import Foundation
import TestSupport
import Testing

@testable import SolutionSearch

func dot(_ first: [Float], _ second: [Float]) -> Float {
    zip(first, second).reduce(0) { $0 + $1.0 * $1.1 }
}

enum InstalledModel {
    static let encoder: SentenceEncoder? = InstalledSemanticModel.folder.flatMap { try? SentenceEncoder(folder: $0) }
    /// The weights as the model file has them: what the reference values are checked against.
    static let float32: SentenceEncoder? = InstalledSemanticModel.folder.flatMap {
        try? SentenceEncoder(folder: $0, precision: .float32)
    }
}

@Suite struct SentenceEncoderTests {
    @Test func theModelIsInstalledInCI() {
        #expect(!InstalledSemanticModel.requiredButMissing, "scripts/install-semantic-model.sh installs it")
        if InstalledSemanticModel.folder != nil { #expect(InstalledModel.encoder != nil) }
    }

    // Token numbers and vector components as a NumPy implementation of BERT's tokenizer rules and layers gives them
    // for these texts (tokens as Hugging Face's BertTokenizer splits them, CJK included).
    @Test(.enabled(if: InstalledModel.encoder != nil))
    func tokenizesAsBERTsUncasedTokenizer() throws {
        let tokenizer = try #require(InstalledModel.encoder).tokenizer
        #expect(
            tokenizer.tokens("Outlook keeps asking for my password", limit: 128) == [
                101, 17680, 7906, 4851, 2005, 2026, 20786, 102,
            ])
        #expect(
            tokenizer.tokens("Café naïve “quoted” AADSTS50126 0x8004de40 über-long 中文", limit: 128) == [
                101, 7668, 15743, 1523, 9339, 1524, 9779, 5104, 3215, 12376, 12521, 2575, 1014, 2595, 17914, 2692,
                2549, 3207, 12740, 19169, 1011, 2146, 1746, 1861, 102,
            ])
        let long = tokenizer.tokens(String(repeating: "password ", count: 500), limit: 128)
        #expect(long.count == 128 && long.first == 101 && long.last == 102)
        #expect(tokenizer.tokens("", limit: 128) == [101, 102])
        #expect(tokenizer.tokens(String(repeating: "x", count: 150), limit: 128) == [101, tokenizer.unknown, 102])
    }

    @Test(.enabled(if: InstalledModel.encoder != nil))
    func encodesAsTheReference() throws {
        let encoder = try #require(InstalledModel.float32)
        let password = encoder.encode("Outlook keeps asking for my password")
        let crash = encoder.encode("Excel crashes on startup")
        #expect(password.count == 384)
        let expected: [Float] = [-0.04385, 0.02078, -0.01968, 0.02292, -0.0141, -0.05528]
        for (value, reference) in zip(password, expected) { #expect(abs(value - reference) < 0.0005) }
        let expectedCrash: [Float] = [-0.01129, 0.02066, -0.03346, -0.05109, -0.01221, 0.05962]
        for (value, reference) in zip(crash, expectedCrash) { #expect(abs(value - reference) < 0.0005) }
        #expect(abs(dot(password, crash) - 0.14502) < 0.001)
        // Two threads sharing the products compute the same columns the same way.
        #expect(encoder.encode("Outlook keeps asking for my password", threads: 2) == password)
        let norm = password.reduce(0) { $0 + $1 * $1 }
        #expect(abs(norm - 1) < 0.0001)
        // Alike in meaning, not in words.
        let forgot = encoder.encode("I forgot my password and cannot sign in")
        let reset = encoder.encode("How to reset a forgotten password")
        #expect(dot(forgot, reset) > 0.6)
        #expect(dot(forgot, crash) < 0.2)
    }

    /// A stored vector is found by the name of what made it: another precision or encoding revision is another
    /// name, and the first revision the name vectors were stored under before revisions were counted.
    @Test func theModelNameTellsPrecisionAndRevisionApart() {
        let name = { (precision: SentenceEncoder.Precision, revision: Int) in
            SentenceEncoder.modelName(
                folder: "all-MiniLM-L6-v2", weightBytes: 90_868_376, precision: precision, revision: revision)
        }
        #expect(name(.float32, 1) == "all-MiniLM-L6-v2/90868376")
        #expect(name(.int8, 1) == "all-MiniLM-L6-v2/90868376/int8")
        #expect(Set([name(.float32, 1), name(.int8, 1), name(.float32, 2), name(.int8, 2)]).count == 4)
    }

    /// The encoder runs with 8-bit weights: its vectors stay within a small angle of the 32-bit ones, texts keep
    /// their likeness, and the model name differs, so stored vectors of the two are never mixed.
    @Test(.enabled(if: InstalledModel.encoder != nil))
    func eightBitWeightsKeepTheVectors() throws {
        // Explicitly 8-bit: on a processor without byte dot products the portable loops compute the same numbers.
        let encoder = try SentenceEncoder(folder: try #require(InstalledSemanticModel.folder), precision: .int8)
        let reference = try #require(InstalledModel.float32)
        #expect(try #require(InstalledModel.encoder).precision == SentenceEncoder.Precision.fastest)
        #expect(encoder.modelName != reference.modelName)
        let texts = [
            "Outlook keeps asking for my password", "Excel crashes on startup", "AADSTS50126 invalid username",
            "Teams meeting recording button missing for guests, policy set in the admin center last week",
            String(repeating: "mailbox full archive ", count: 40),
        ]
        for text in texts {
            let cosine = dot(encoder.encode(text), reference.encode(text))
            #expect(cosine > 0.995, "\(text): \(cosine)")
        }
        let password = encoder.encode("Outlook keeps asking for my password")
        #expect(abs(dot(password, encoder.encode("Excel crashes on startup")) - 0.14502) < 0.01)
        #expect(encoder.encode("Outlook keeps asking for my password", threads: 2) == password)
    }
}

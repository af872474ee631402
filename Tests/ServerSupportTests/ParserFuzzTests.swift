import Foundation
import TestSupport
import Testing

@testable import ServerSupport

/// Random input, mostly built from each parser's own syntax, never traps a parser, and what a parser accepts
/// keeps its promises.
@Suite("Parsers under random input")
struct ParserFuzzTests {
    static let rounds = 20_000

    @Test func formBodiesAndQueryStrings() {
        var random = SeededRandom(seed: 7)
        let alphabet = Array("a=b&c=%41%zz%F0%9F%98%80%ff+%%=&=&&x".utf8)
        for _ in 0..<Self.rounds {
            let bytes = random.bytes(from: alphabet, maxLength: 40)
            if let fields = FormBody.parse(bytes) {
                #expect(fields.keys.allSatisfy { !$0.isEmpty })
            }
            let query = FormBody.parseQuery(String(decoding: bytes, as: UTF8.self))
            #expect(query.keys.allSatisfy { !$0.isEmpty })
        }
    }

    @Test func strictJSONThenFoundation() {
        var random = SeededRandom(seed: 11)
        let alphabet = Array(#"{}[],:"\ abc123truefalsenull-.eE"#.utf8)
        for _ in 0..<Self.rounds {
            let bytes = random.bytes(from: alphabet, maxLength: 60)
            guard (try? StrictJSON.check(bytes)) != nil else { continue }
            // What passes the check may still be invalid JSON, but it never has a trailing comma.
            if let object = try? JSONSerialization.jsonObject(with: Data(bytes), options: [.fragmentsAllowed]) {
                _ = object
            }
            let compact = bytes.filter { ![0x20, 0x09, 0x0a, 0x0d].contains($0) }
            let text = String(decoding: compact, as: UTF8.self)
            if !text.contains("\"") {
                #expect(!text.contains(",}") && !text.contains(",]"), "\(text)")
            }
        }
    }

    @Test func localRedirectsStayLocal() {
        var random = SeededRandom(seed: 13)
        let alphabet = Array("/\\%2F5C09:.evil@?#a \t".utf8) + [0x0a, 0x0d, 0x00]
        for _ in 0..<Self.rounds {
            let text = String(decoding: random.bytes(from: alphabet, maxLength: 24), as: UTF8.self)
            guard let path = LocalRedirect.safePath(text) else { continue }
            for form in [path, path.removingPercentEncoding ?? path] {
                #expect(form.hasPrefix("/"), "\(text.debugDescription)")
                #expect(!form.hasPrefix("//") && !form.hasPrefix("/\\"), "\(text.debugDescription)")
                #expect(!form.unicodeScalars.contains { $0.value < 0x21 || $0 == "\\" }, "\(text.debugDescription)")
            }
        }
    }

    @Test func numbersStayInTheirRange() {
        var random = SeededRandom(seed: 17)
        let alphabet = Array("-+0123456789 e.".utf8)
        for _ in 0..<Self.rounds {
            let text = String(decoding: random.bytes(from: alphabet, maxLength: 24), as: UTF8.self)
            if let value = InputNumber.parse(text, in: -1000...1000) {
                #expect((-1000...1000).contains(value))
                #expect(Int(text) == value)
            }
        }
    }
}

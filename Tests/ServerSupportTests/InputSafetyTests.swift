import Foundation
import Testing

@testable import ServerSupport

@Suite("Input numbers, strict JSON, passwords, redirects")
struct InputSafetyTests {
    @Test func numbersOutsideTheirRangeAreRefusedNotTrapped() {
        #expect(InputNumber.parse("42", in: 1...100) == 42)
        #expect(InputNumber.parse("0", in: 1...100) == nil)
        #expect(InputNumber.parse("9223372036854775807", in: 1...10_000) == nil)
        #expect(InputNumber.parse("99999999999999999999999", in: Int.min...Int.max) == nil)
        #expect(InputNumber.parse("-9223372036854775808", in: Int.min...Int.max) == Int.min)
        #expect(InputNumber.parse(" 5", in: 0...9) == nil)
        #expect(InputNumber.parse("+5", in: 0...9) == nil)
        #expect(InputNumber.parse("", in: 0...9) == nil)
        #expect(InputNumber.saturatingSum(.max, 1) == .max)
        #expect(InputNumber.saturatingSum(.min, -1) == .min)
        #expect(InputNumber.saturatingProduct(.max, 60) == .max)
        #expect(InputNumber.saturatingProduct(.min, 2) == .min)
        #expect(InputNumber.saturatingProduct(-3, 4) == -12)
        #expect(InputNumber.clamp(.max, to: 0...10) == 10)
    }

    @Test(arguments: [
        ("{\"a\":1,}", StrictJSON.Violation.trailingComma(offset: 6)),
        ("[1,2,]", .trailingComma(offset: 4)),
        ("{\"a\":[1, ] }", .trailingComma(offset: 7)),
        ("{\"a\":{\"b\":2,\n}}", .trailingComma(offset: 11)),
    ])
    func trailingCommasAreRefused(body: String, violation: StrictJSON.Violation) {
        #expect(throws: violation) { try StrictJSON.check(Array(body.utf8)) }
    }

    @Test func commasAndBracketsInsideStringsAreText() throws {
        try StrictJSON.check(Array(#"{"a":"x,}","b":"\",]","c":[1,2]}"#.utf8))
        try StrictJSON.check(Array("[]".utf8))
    }

    @Test func deepNestingIsRefusedBeforeParsing() {
        let deep = String(repeating: "[", count: 65) + String(repeating: "]", count: 65)
        #expect(throws: StrictJSON.Violation.tooDeep(limit: 64)) { try StrictJSON.check(Array(deep.utf8)) }
    }

    @Test func passwordsBcryptWouldTruncateAreRefused() {
        #expect(PasswordRules.violation("correct horse") == nil)
        #expect(PasswordRules.violation("secret\u{0}anything") == .containsNUL)
        #expect(PasswordRules.violation(String(repeating: "a", count: 73)) == .tooLong(bytes: 73))
        #expect(PasswordRules.violation(String(repeating: "é", count: 37)) == .tooLong(bytes: 74))
        #expect(PasswordRules.violation(String(repeating: "a", count: 72)) == nil)
        #expect(PasswordRules.violation("") == .empty)
        #expect(!PasswordRules.mayVerify("secret\u{0}x"))
        #expect(!PasswordRules.mayVerify(String(repeating: "a", count: 73)))
        #expect(PasswordRules.mayVerify("secret"))
    }

    @Test(arguments: [
        "/%09/evil.example", "//evil.example", "/\\evil.example", "\\\\evil.example", "https://evil.example",
        "javascript:alert(1)", "/%2F/evil.example", "/%5Cevil.example", "/\t/evil.example", " /x", "/x\ny",
        "/%0d%0aLocation:%20x", "evil.example", "", "/%252F%252Fevil.example", "/\u{2028}/evil.example",
    ])
    func redirectsLeavingTheSiteAreRefused(target: String) {
        #expect(LocalRedirect.safePath(target) == nil)
    }

    @Test(arguments: ["/", "/incident_list.do?sysparm_query=active%3Dtrue", "/incident.do?sys_id=abc#notes"])
    func localPathsAreKept(target: String) {
        #expect(LocalRedirect.safePath(target) == target)
    }

    @Test func queryStringsDecodeLeniently() {
        #expect(FormBody.parseQuery("a=%FF&b=%zz&c=x+y&d=%41") == ["a": "\u{FFFD}", "b": "%zz", "c": "x y", "d": "A"])
        #expect(FormBody.parseQuery("=1&x") == ["x": ""])
    }
}

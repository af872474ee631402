import Foundation
import Testing

@testable import ServerSupport

@Suite("Form bodies")
struct FormBodyTests {
    @Test func decodesPercentEscapesPlusAndEmptyValues() {
        let fields = FormBody.parse(
            Array("a=1&scope=https%3A%2F%2Fgraph.microsoft.com%2F.default&b=x+y&c=&d&secret=Ab8Q~%2B%2F%3D".utf8))
        #expect(
            fields == [
                "a": "1", "scope": "https://graph.microsoft.com/.default", "b": "x y", "c": "", "d": "",
                "secret": "Ab8Q~+/=",
            ])
    }

    @Test func keepsTheFirstOfRepeatedFieldsAndSkipsEmptyPairs() {
        #expect(FormBody.parse(Array("a=1&&a=2&".utf8)) == ["a": "1"])
    }

    @Test(arguments: ["a=%", "a=%4", "a=%zz", "=x", "a=%ff%fe", "%C3%28=1"])
    func refusesMalformedEncoding(body: String) {
        #expect(FormBody.parse(Array(body.utf8)) == nil)
    }

    @Test func decodesUTF8() {
        #expect(FormBody.parse(Array("name=J%C3%BCrgen".utf8)) == ["name": "Jürgen"])
    }
}

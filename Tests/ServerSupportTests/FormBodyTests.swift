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

@Suite(".env files")
struct DotEnvFileTests {
    @Test func parsesAssignmentsCommentsQuotesAndExport() {
        let text = """
            # comment
            M365_HOST=0.0.0.0
            export M365_IDENTITY_PORT = 9443
            M365_IDENTITY_PUBLIC_URL="https://login.example.internal"
            QUOTED='a b'
            EMPTY=
            not a line
            """
        let pairs = DotEnvFile.parse(text)
        #expect(pairs.map(\.0) == ["M365_HOST", "M365_IDENTITY_PORT", "M365_IDENTITY_PUBLIC_URL", "QUOTED", "EMPTY"])
        #expect(pairs.map(\.1) == ["0.0.0.0", "9443", "https://login.example.internal", "a b", ""])
    }
}

import Foundation
import Testing

@testable import ServiceDesk

@Suite("Table API JSON writer")
struct TableJSONTests {
    @Test func recordsKeepColumnOrderEscapeTextAndRoundTrip() throws {
        let record: [String: Any] = [
            "short_description": "Quote \" backslash \\ slash / tab \t newline \n bell \u{07} émoji 🙂",
            "sys_id": "0123456789abcdef0123456789abcdef",
            "caller_id": ["link": "https://desk/api/now/table/sys_user/1", "value": "1"],
            "number": "INC0010001",
        ]
        let bytes = try #require(TableJSON.envelope([record, record], single: false, table: DeskTables.incident))
        let text = String(decoding: bytes, as: UTF8.self)
        #expect(text.hasPrefix(#"{"result":[{"sys_id":"0123456789abcdef0123456789abcdef","number":"INC0010001""#))
        #expect(text.contains(#""caller_id":{"link":"https://desk/api/now/table/sys_user/1","value":"1"}"#))
        #expect(text.contains(#"\u0007"#))
        let decoded = try #require(
            try JSONSerialization.jsonObject(with: Data(bytes)) as? [String: [[String: Any]]])
        #expect(decoded["result"]?.count == 2)
        #expect(decoded["result"]?[0]["short_description"] as? String == record["short_description"] as? String)

        let single = try #require(TableJSON.envelope([record], single: true, table: DeskTables.incident))
        let one = try #require(try JSONSerialization.jsonObject(with: Data(single)) as? [String: [String: Any]])
        #expect(one["result"]?["number"] as? String == "INC0010001")
        #expect(
            TableJSON.envelope([], single: false, table: DeskTables.incident).map { Array($0) }
                == Array(#"{"result":[]}"#.utf8))
    }

    @Test func anUnexpectedValueShapeFallsBack() {
        #expect(TableJSON.envelope([["number": 1]], single: true, table: DeskTables.incident) == nil)
    }
}

import Foundation
import ServerSupport
import TestSupport
import Testing

/// `$filter` and the other OData options: what they mean on records, and that no input traps.
@Suite struct ODataQueryTests {
    static let schema = ODataSchema(
        properties: ["id": .string, "title": .string, "status": .enumeration, "isResolved": .bool, "modified": .date],
        selectOnly: ["posts"])

    struct Record {
        let id: String
        let title: String
        let status: String
        let isResolved: Bool?
        let modified: Date?
    }

    static let records = [
        Record(
            id: "A", title: "Mail is slow", status: "investigating", isResolved: false,
            modified: date("2026-01-01T00:00:00Z")),
        Record(
            id: "B", title: "Teams won't start", status: "serviceRestored", isResolved: true,
            modified: date("2026-01-02T00:00:00.5Z")),
        Record(id: "C", title: "It's O'Brien's mailbox", status: "serviceDegradation", isResolved: nil, modified: nil),
    ]

    static func date(_ text: String) -> Date? { ISO8601DateFormatter.withFractions(text) }

    static func value(_ record: Record, _ property: String) -> ODataValue {
        switch property {
        case "id": .string(record.id)
        case "title": .string(record.title)
        case "status": .string(record.status)
        case "isResolved": record.isResolved.map(ODataValue.bool) ?? .null
        case "modified": record.modified.map(ODataValue.date) ?? .null
        default: .null
        }
    }

    func ids(_ filter: String) throws -> [String] {
        let parsed = try ODataFilter.parse(filter, schema: Self.schema)
        return Self.records.filter { record in parsed.matches { Self.value(record, $0) } }.map(\.id)
    }

    @Test func comparisonsAndLogic() throws {
        #expect(try ids("id eq 'A'") == ["A"])
        #expect(try ids("ID EQ 'A'") == ["A"])
        #expect(try ids("status eq 'SERVICERESTORED'") == ["B"])
        #expect(try ids("isResolved eq false or isResolved eq null") == ["A", "C"])
        #expect(try ids("isResolved ne true") == ["A", "C"])
        #expect(
            try ids("not (id eq 'A') and (status eq 'serviceRestored' or contains(title, 'o''brien'))") == ["B", "C"])
        #expect(try ids("modified gt 2026-01-01T00:00:00Z") == ["B"])
        #expect(try ids("modified ge 2026-01-02T00:00:00.500Z") == ["B"])
        #expect(try ids("modified le '2026-01-01T00:00:00Z'") == ["A"])
        #expect(try ids("modified eq null") == ["C"])
        #expect(try ids("startswith(title,'mail') or endswith(title, 'START')") == ["A", "B"])
        #expect(try ids("title gt 'N'") == ["B"])
        #expect(try ids("id eq 'A' or id eq 'B' and id eq 'C'") == ["A"])
    }

    @Test func refusals() {
        for text in [
            "", "id", "id eq", "id eq 'x", "id == 'A'", "(id eq 'A'", "id eq 'A')", "posts eq 'x'", "nope eq 1",
            "isResolved eq 'true'", "modified gt soon", "contains(isResolved,'x')", "contains(title)", "id eq A",
            "id eq 'A' and", "id eq 'A' xor id eq 'B'", "title eq 'a' \u{0}",
        ] {
            #expect(throws: ODataError.self, "\(text)") { try ODataFilter.parse(text, schema: Self.schema) }
        }
        let deep = String(repeating: "(", count: 100) + "id eq 'A'" + String(repeating: ")", count: 100)
        #expect(throws: ODataError.self) { try ODataFilter.parse(deep, schema: Self.schema) }
        let wide = Array(repeating: "id eq 'A'", count: 101).joined(separator: " or ")
        #expect(throws: ODataError.self) { try ODataFilter.parse(wide, schema: Self.schema) }
        let deepNot = String(repeating: "not ", count: 1000) + "id eq 'A'"
        #expect(throws: ODataError.self) { try ODataFilter.parse(deepNot, schema: Self.schema) }
    }

    @Test func optionsParseOrRefuse() throws {
        let query = try ODataQuery.parse(
            [
                ("$filter", "id eq 'A'"), ("$orderby", "modified desc, id"), ("$select", "id,title"), ("$top", "5"),
                ("$skip", "2"), ("$count", "true"), ("other", "ignored"),
            ],
            schema: Self.schema, allowed: Set(ODataQuery.Option.allCases), expandable: ["issues"])
        #expect(
            query.orderBy == [.init(property: "modified", descending: true), .init(property: "id", descending: false)])
        #expect(query.select == ["id", "title"] && query.top == 5 && query.skip == 2 && query.count)
        let sorted = query.sorted(Self.records, value: Self.value) { $0.id < $1.id }.map(\.id)
        #expect(sorted == ["B", "A", "C"])

        for pairs in [
            [("$search", "x")], [("$top", "1001")], [("$skip", "-1")], [("$top", "1"), ("$top", "2")],
            [("$expand", "posts")], [("$orderby", "posts")], [("$select", "nope")],
        ] as [[(String, String)]] {
            #expect(throws: ODataError.self, "\(pairs)") {
                try ODataQuery.parse(
                    pairs.map { (name: $0.0, value: $0.1) }, schema: Self.schema,
                    allowed: Set(ODataQuery.Option.allCases), expandable: ["issues"])
            }
        }
        #expect(throws: ODataError.self) {
            try ODataQuery.parse([(name: "$expand", value: "issues")], schema: Self.schema, allowed: [.filter])
        }
    }

    /// Random filters built from the grammar's own pieces never trap: each parses or is refused, and a parsed
    /// one evaluates.
    @Test func randomFiltersNeverTrap() {
        var random = SeededRandom(seed: 0x0DA7A)
        let alphabet = Array(
            "()',. eqneandornotidtitlestatusisResolvedmodifiedcontains0123456789-:TZ'nulltruefalse".utf8)
        for _ in 0..<20_000 {
            let text = String(decoding: random.bytes(from: alphabet, maxLength: 120), as: UTF8.self)
            if let filter = try? ODataFilter.parse(text, schema: Self.schema) {
                _ = Self.records.filter { record in filter.matches { Self.value(record, $0) } }
            }
        }
    }
}

extension ISO8601DateFormatter {
    static func withFractions(_ text: String) -> Date? {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return formatter.date(from: text) ?? ISO8601DateFormatter().date(from: text)
    }
}

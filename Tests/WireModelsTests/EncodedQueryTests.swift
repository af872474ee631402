import Testing

@testable import WireModels

@Suite("ServiceNow encoded queries")
struct EncodedQueryTests {
    typealias Q = EncodedQuery

    @Test func andOrAndOrdering() throws {
        let query = try Q.parse(
            "active=true^priority<=2^ORurgency=1^short_descriptionLIKEOutlook^ORDERBYDESCopened_at^ORDERBYnumber")
        #expect(
            query.groups == [
                [.init(field: "active", op: .equals, value: "true")],
                [
                    .init(field: "priority", op: .lessOrEqual, value: "2"),
                    .init(field: "urgency", op: .equals, value: "1"),
                ],
                [.init(field: "short_description", op: .like, value: "Outlook")],
            ])
        #expect(
            query.orderings == [.init(field: "opened_at", descending: true), .init(field: "number", descending: false)])
    }

    @Test(arguments: [
        ("state!=7", Q.Operator.notEquals, "7"),
        ("numberSTARTSWITHINC001", .startsWith, "INC001"),
        ("numberENDSWITH9", .endsWith, "9"),
        ("stateIN1,2,3", .isIn, "1,2,3"),
        ("stateNOT IN6,7", .notIn, "6,7"),
        ("descriptionNOT LIKEteams", .notLike, "teams"),
        ("assigned_toISEMPTY", .isEmpty, ""),
        ("assigned_toISNOTEMPTY", .isNotEmpty, ""),
        ("impact>1", .greater, "1"),
        ("impact>=1", .greaterOrEqual, "1"),
        ("impact<3", .less, "3"),
        ("caller_id.user_name=abel.tuter", .equals, "abel.tuter"),
        ("short_description=a=b", .equals, "a=b"),
    ])
    func operators(text: String, op: Q.Operator, value: String) throws {
        let condition = try #require(try Q.parse(text).groups.first?.first)
        #expect(condition.op == op)
        #expect(condition.value == value)
    }

    @Test func inListsSplitOnCommas() throws {
        #expect(try Q.parse("stateIN1, 2,3").groups[0][0].values == ["1", "2", "3"])
    }

    @Test func doubledCaretIsALiteralCaret() throws {
        #expect(try Q.parse("short_description=a^^b^state=1").groups.map { $0[0].value } == ["a^b", "1"])
    }

    @Test func emptyQueryAndEmptyTermsAreNoConditions() throws {
        #expect(try Q.parse("") == Q())
        #expect(try Q.parse("^state=1^").groups.count == 1)
    }

    @Test func orderByIsNotAnOrTerm() throws {
        let query = try Q.parse("state=1^ORDERBYnumber")
        #expect(query.groups.count == 1)
        #expect(query.orderings == [.init(field: "number", descending: false)])
    }

    @Test(arguments: [
        "^ORstate=1", "State=1", "state", "stateBETWEEN1@2", "=1", "ORDERBY", "ORDERBYDESCbad-field", "stateISEMPTYx",
    ])
    func malformedQueriesAreRefused(text: String) {
        #expect(throws: Q.ParseError.self) { try Q.parse(text) }
    }

    @Test func fieldsListsEveryNamedField() throws {
        #expect(try Q.parse("a=1^ORb=2^ORDERBYc").fields == ["a", "b", "c"])
    }
}

@Suite("Encoded queries under random input")
struct EncodedQueryFuzzTests {
    /// A small deterministic generator (SplitMix64); WireModels' tests have no other dependency.
    struct Random: RandomNumberGenerator {
        var state: UInt64
        mutating func next() -> UInt64 {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
    }

    @Test func parsingNeverTrapsAndAcceptedQueriesAreWellFormed() {
        var random = Random(state: 3)
        let pieces = [
            "^", "^OR", "^^", "ORDERBY", "ORDERBYDESC", "=", "!=", "<", "<=", ">", ">=", "LIKE", "NOT LIKE", "IN",
            "NOT IN", "STARTSWITH", "ENDSWITH", "ISEMPTY", "ISNOTEMPTY", "state", "number", "a.b", "x", "1", ",",
            " ", "é", "\u{0}", "Z",
        ]
        for _ in 0..<20_000 {
            let text = (0..<Int.random(in: 0...12, using: &random)).map { _ in pieces.randomElement(using: &random)! }
                .joined()
            guard let query = try? EncodedQuery.parse(text) else { continue }
            #expect(!text.contains("\u{0}"))
            for field in query.fields {
                #expect(!field.isEmpty && field.allSatisfy { $0.isLowercase || $0.isNumber || $0 == "_" || $0 == "." })
            }
            for condition in query.groups.flatMap({ $0 }) where condition.op.isUnary {
                #expect(condition.value.isEmpty)
            }
        }
    }
}

import Foundation
import WireModels

/// A parsed `$filter`: comparisons (`eq`, `ne`, `gt`, `ge`, `lt`, `le`) of a property with a literal, the
/// functions `contains`, `startswith` and `endswith`, joined by `and`, `or`, `not` and parentheses. Checked
/// against the resource's schema when parsed, so evaluating it cannot fail.
package indirect enum ODataFilter: Sendable, Equatable {
    package enum Comparison: String, Sendable {
        case eq, ne, gt, ge, lt, le
    }

    package enum Function: String, Sendable {
        case contains, startswith, endswith
    }

    case and(ODataFilter, ODataFilter)
    case or(ODataFilter, ODataFilter)
    case not(ODataFilter)
    case compare(property: String, ODataSchema.Kind, Comparison, ODataValue)
    case function(Function, property: String, String)

    /// Limits that keep a hostile filter cheap: parenthesis depth and the number of terms.
    package static let maxDepth = 32
    package static let maxTerms = 100

    package static func parse(_ text: String, schema: ODataSchema) throws(ODataError) -> ODataFilter {
        var parser = Parser(tokens: try Lexer.tokens(text), schema: schema)
        let filter = try parser.expression(depth: 0)
        guard parser.atEnd else {
            throw ODataError("Syntax error at '\(parser.remainder)' in $filter.")
        }
        return filter
    }

    /// Whether the record `value` describes passes.
    package func matches(_ value: (String) -> ODataValue) -> Bool {
        switch self {
        case .and(let left, let right): left.matches(value) && right.matches(value)
        case .or(let left, let right): left.matches(value) || right.matches(value)
        case .not(let inner): !inner.matches(value)
        case .compare(let property, let kind, let comparison, let literal):
            Self.evaluate(value(property), comparison, literal, caseInsensitive: kind == .enumeration)
        case .function(let function, let property, let needle):
            Self.evaluate(function, value(property), needle)
        }
    }

    private static func evaluate(
        _ actual: ODataValue, _ comparison: Comparison, _ literal: ODataValue, caseInsensitive: Bool
    ) -> Bool {
        let order: ComparisonResult
        if caseInsensitive, case .string(let left) = actual, case .string(let right) = literal {
            order = left.caseInsensitiveCompare(right)
        } else {
            // Comparing with null or across kinds: only eq/ne mean anything (null eq null).
            switch (actual, literal) {
            case (.null, .null): order = .orderedSame
            case (.null, _), (_, .null):
                return comparison == .ne
            default: order = compare(actual, literal)
            }
        }
        switch comparison {
        case .eq: return order == .orderedSame
        case .ne: return order != .orderedSame
        case .gt: return order == .orderedDescending
        case .ge: return order != .orderedAscending
        case .lt: return order == .orderedAscending
        case .le: return order != .orderedDescending
        }
    }

    private static func evaluate(_ function: Function, _ actual: ODataValue, _ needle: String) -> Bool {
        guard case .string(let text) = actual else { return false }
        switch function {
        case .contains: return text.range(of: needle, options: .caseInsensitive) != nil
        case .startswith: return text.range(of: needle, options: [.caseInsensitive, .anchored]) != nil
        case .endswith: return text.range(of: needle, options: [.caseInsensitive, .anchored, .backwards]) != nil
        }
    }

    /// Total order of values: null first, then by kind; strings by Unicode scalars.
    package static func compare(_ left: ODataValue, _ right: ODataValue) -> ComparisonResult {
        func rank(_ value: ODataValue) -> Int {
            switch value {
            case .null: 0
            case .bool: 1
            case .date: 2
            case .string: 3
            }
        }
        switch (left, right) {
        case (.string(let a), .string(let b)):
            return a == b ? .orderedSame : (a < b ? .orderedAscending : .orderedDescending)
        case (.date(let a), .date(let b)):
            // Graph's times have milliseconds: finer differences are noise from parsing and arithmetic.
            let (x, y) = (milliseconds(a), milliseconds(b))
            return x == y ? .orderedSame : (x < y ? .orderedAscending : .orderedDescending)
        case (.bool(let a), .bool(let b)): return a == b ? .orderedSame : (!a ? .orderedAscending : .orderedDescending)
        default:
            let (a, b) = (rank(left), rank(right))
            return a == b ? .orderedSame : (a < b ? .orderedAscending : .orderedDescending)
        }
    }

    private static func milliseconds(_ date: Date) -> Double {
        (date.timeIntervalSince1970 * 1000).rounded()
    }

    // MARK: Lexing

    enum Token: Equatable {
        case open, close, comma
        case word(String)
        case string(String)
    }

    enum Lexer {
        static func tokens(_ text: String) throws(ODataError) -> [Token] {
            guard !text.isEmpty else { throw ODataError("$filter is empty.") }
            var tokens: [Token] = []
            let scalars = Array(text.unicodeScalars)
            var index = 0
            while index < scalars.count {
                let scalar = scalars[index]
                switch scalar {
                case " ", "\t":
                    index += 1
                case "(":
                    tokens.append(.open)
                    index += 1
                case ")":
                    tokens.append(.close)
                    index += 1
                case ",":
                    tokens.append(.comma)
                    index += 1
                case "'":
                    // A quote inside a literal is written twice.
                    var value = String.UnicodeScalarView()
                    index += 1
                    var closed = false
                    while index < scalars.count {
                        if scalars[index] == "'" {
                            if index + 1 < scalars.count, scalars[index + 1] == "'" {
                                value.append("'")
                                index += 2
                                continue
                            }
                            closed = true
                            index += 1
                            break
                        }
                        value.append(scalars[index])
                        index += 1
                    }
                    guard closed else { throw ODataError("Unterminated string literal in $filter.") }
                    tokens.append(.string(String(value)))
                default:
                    guard isWordScalar(scalar) else {
                        throw ODataError("Unexpected character '\(Character(scalar))' in $filter.")
                    }
                    var word = String.UnicodeScalarView()
                    while index < scalars.count, isWordScalar(scalars[index]) {
                        word.append(scalars[index])
                        index += 1
                    }
                    tokens.append(.word(String(word)))
                }
                if tokens.count > maxTerms * 8 { throw ODataError("$filter has too many terms.") }
            }
            return tokens
        }

        /// Names, keywords, numbers and unquoted dates (`2025-01-25T00:00:00.000Z`, `+01:00` offsets).
        static func isWordScalar(_ scalar: Unicode.Scalar) -> Bool {
            switch scalar {
            case "a"..."z", "A"..."Z", "0"..."9", "_", "/", ".", ":", "-", "+": true
            default: false
            }
        }
    }

    // MARK: Parsing

    struct Parser {
        let tokens: [Token]
        let schema: ODataSchema
        var position = 0
        var terms = 0

        init(tokens: [Token], schema: ODataSchema) {
            self.tokens = tokens
            self.schema = schema
        }

        var atEnd: Bool { position == tokens.count }

        var remainder: String {
            tokens[position...].prefix(4).map { token in
                switch token {
                case .open: "("
                case .close: ")"
                case .comma: ","
                case .word(let word): String(word.prefix(40))
                case .string(let text): "'\(text.prefix(40))'"
                }
            }.joined(separator: " ")
        }

        private func peekWord() -> String? {
            guard position < tokens.count, case .word(let word) = tokens[position] else { return nil }
            return word.lowercased()
        }

        mutating func expression(depth: Int) throws(ODataError) -> ODataFilter {
            guard depth <= ODataFilter.maxDepth else {
                throw ODataError("$filter nests deeper than \(ODataFilter.maxDepth) levels.")
            }
            var left = try conjunction(depth: depth)
            while peekWord() == "or" {
                position += 1
                left = .or(left, try conjunction(depth: depth))
            }
            return left
        }

        private mutating func conjunction(depth: Int) throws(ODataError) -> ODataFilter {
            var left = try unary(depth: depth)
            while peekWord() == "and" {
                position += 1
                left = .and(left, try unary(depth: depth))
            }
            return left
        }

        private mutating func unary(depth: Int) throws(ODataError) -> ODataFilter {
            if peekWord() == "not" {
                position += 1
                return .not(try unary(depth: depth + 1))
            }
            if position < tokens.count, tokens[position] == .open {
                position += 1
                let inner = try expression(depth: depth + 1)
                guard position < tokens.count, tokens[position] == .close else {
                    throw ODataError("A parenthesis is not closed in $filter.")
                }
                position += 1
                return inner
            }
            return try term()
        }

        private mutating func term() throws(ODataError) -> ODataFilter {
            terms += 1
            guard terms <= ODataFilter.maxTerms else {
                throw ODataError("$filter has more than \(ODataFilter.maxTerms) conditions.")
            }
            guard position < tokens.count, case .word(let first) = tokens[position] else {
                throw ODataError(atEnd ? "$filter ends too early." : "Syntax error at '\(remainder)' in $filter.")
            }
            position += 1
            if let function = Function(rawValue: first.lowercased()) {
                return try functionCall(function)
            }
            let property = try property(first)
            guard let operatorWord = peekWord(), let comparison = Comparison(rawValue: operatorWord) else {
                throw ODataError(
                    atEnd
                        ? "$filter ends after '\(first.prefix(40))'."
                        : "Expected eq, ne, gt, ge, lt or le at '\(remainder)' in $filter.")
            }
            position += 1
            return .compare(
                property: property.name, property.kind, comparison, try literal(for: property))
        }

        private mutating func functionCall(_ function: Function) throws(ODataError) -> ODataFilter {
            guard position < tokens.count, tokens[position] == .open else {
                throw ODataError("\(function.rawValue) needs parentheses: \(function.rawValue)(property,'text').")
            }
            position += 1
            guard position < tokens.count, case .word(let name) = tokens[position] else {
                throw ODataError("\(function.rawValue) needs a property first.")
            }
            position += 1
            let property = try property(name)
            guard property.kind == .string || property.kind == .enumeration else {
                throw ODataError("\(function.rawValue) applies to text properties; '\(property.name)' is not one.")
            }
            guard position + 2 < tokens.count, tokens[position] == .comma,
                case .string(let needle) = tokens[position + 1],
                tokens[position + 2] == .close
            else {
                throw ODataError(
                    "\(function.rawValue) takes a property and a quoted text: \(function.rawValue)(title,'mail').")
            }
            position += 3
            return .function(function, property: property.name, needle)
        }

        private func property(_ name: String) throws(ODataError) -> (name: String, kind: ODataSchema.Kind) {
            guard let property = schema.property(name), !schema.selectOnly.contains(property.name) else {
                throw ODataError("Could not find a property named '\(name.prefix(60))' to filter on.")
            }
            return property
        }

        private mutating func literal(for property: (name: String, kind: ODataSchema.Kind)) throws(ODataError)
            -> ODataValue
        {
            guard position < tokens.count else {
                throw ODataError("$filter ends before the value of \(property.name).")
            }
            let token = tokens[position]
            position += 1
            if case .word(let word) = token, word.lowercased() == "null" { return .null }
            switch (property.kind, token) {
            case (.string, .string(let text)), (.enumeration, .string(let text)):
                return .string(text)
            case (.bool, .word(let word)) where ["true", "false"].contains(word.lowercased()):
                return .bool(word.lowercased() == "true")
            case (.date, .word(let text)), (.date, .string(let text)):
                guard let date = GraphDate.parse(text) else {
                    throw ODataError("'\(text.prefix(40))' is not a date and time such as 2025-01-25T00:00:00Z.")
                }
                return .date(date)
            default:
                throw ODataError("The value compared with \(property.name) is not of its type (\(property.kind)).")
            }
        }
    }
}

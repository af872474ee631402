import Foundation

/// A ServiceNow encoded query (`sysparm_query`): conditions joined by `^` (and) and `^OR` (or, binding
/// tighter than and), plus `ORDERBY{field}` / `ORDERBYDESC{field}`. `^^` stands for a literal `^`.
package struct EncodedQuery: Equatable, Sendable {
    package enum Operator: String, CaseIterable, Sendable {
        case notEquals = "!="
        case lessOrEqual = "<="
        case greaterOrEqual = ">="
        case equals = "="
        case less = "<"
        case greater = ">"
        case notLike = "NOT LIKE"
        case like = "LIKE"
        case startsWith = "STARTSWITH"
        case endsWith = "ENDSWITH"
        case notIn = "NOT IN"
        case isIn = "IN"
        case isEmpty = "ISEMPTY"
        case isNotEmpty = "ISNOTEMPTY"

        /// Operators that take no value.
        package var isUnary: Bool { self == .isEmpty || self == .isNotEmpty }
    }

    package struct Condition: Hashable, Sendable {
        package var field: String
        package var op: Operator
        package var value: String

        package init(field: String, op: Operator, value: String) {
            self.field = field
            self.op = op
            self.value = value
        }

        /// The values of an `IN` / `NOT IN` list.
        package var values: [String] { value.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) } }
    }

    package struct Ordering: Equatable, Sendable {
        package var field: String
        package var descending: Bool

        package init(field: String, descending: Bool) {
            self.field = field
            self.descending = descending
        }
    }

    /// Every group must hold; a group holds when any of its conditions does.
    package var groups: [[Condition]]
    package var orderings: [Ordering]

    package init(groups: [[Condition]] = [], orderings: [Ordering] = []) {
        self.groups = groups
        self.orderings = orderings
    }

    package struct ParseError: Error, Equatable, Sendable {
        /// What was wrong, safe to show to the caller.
        package var message: String
    }

    /// Every field the query names, for checking them against a table.
    package var fields: [String] { groups.flatMap { $0.map(\.field) } + orderings.map(\.field) }

    // Longest first, so `NOT LIKE` wins over `LIKE` and `<=` over `<`.
    private static let operatorsByLength = Operator.allCases.sorted { $0.rawValue.count > $1.rawValue.count }

    /// How large a query may be. Each condition becomes a node of the SQL expression (SQLite refuses trees
    /// deeper than 1000) and each listed value a bound parameter, so both are bounded well below the databases'
    /// own limits, with an answer that says which bound was passed.
    package struct Limits: Sendable {
        package var maxBytes: Int
        package var maxConditions: Int
        package var maxListValues: Int

        package init(maxBytes: Int, maxConditions: Int, maxListValues: Int) {
            self.maxBytes = maxBytes
            self.maxConditions = maxConditions
            self.maxListValues = maxListValues
        }

        package static let standard = Limits(maxBytes: 32_768, maxConditions: 500, maxListValues: 1_000)
    }

    package static func parse(_ text: String, limits: Limits = .standard) throws -> EncodedQuery {
        guard text.utf8.count <= limits.maxBytes else {
            throw ParseError(
                message: "The query is \(text.utf8.count) bytes long; at most \(limits.maxBytes) are allowed")
        }
        guard !text.utf8.contains(0) else { throw ParseError(message: "The query contains a NUL character") }
        var query = EncodedQuery()
        var conditions = 0
        var listValues = 0
        for term in split(text) {
            if term.text.isEmpty {
                if term.isOr { throw ParseError(message: "'^OR' must follow a condition") }
                continue
            }
            guard query.orderings.count < 20 || !term.text.hasPrefix("ORDERBY") else {
                throw ParseError(message: "The query orders by more than 20 fields")
            }
            if term.text.hasPrefix("ORDERBYDESC") {
                query.orderings.append(Ordering(field: try fieldName(term.text.dropFirst(11)), descending: true))
                continue
            }
            if term.text.hasPrefix("ORDERBY") {
                query.orderings.append(Ordering(field: try fieldName(term.text.dropFirst(7)), descending: false))
                continue
            }
            let condition = try parseCondition(term.text)
            conditions += 1
            guard conditions <= limits.maxConditions else {
                throw ParseError(message: "The query has more than \(limits.maxConditions) conditions")
            }
            if condition.op == .isIn || condition.op == .notIn {
                listValues += condition.values.count
                guard listValues <= limits.maxListValues else {
                    throw ParseError(message: "The query's IN lists hold more than \(limits.maxListValues) values")
                }
            }
            if term.isOr {
                guard !query.groups.isEmpty else { throw ParseError(message: "'^OR' must follow a condition") }
                query.groups[query.groups.count - 1].append(condition)
            } else {
                query.groups.append([condition])
            }
        }
        return query
    }

    private static func parseCondition(_ text: String) throws -> Condition {
        let fieldEnd = text.firstIndex { !isFieldCharacter($0) } ?? text.endIndex
        let field = try fieldName(text[..<fieldEnd])
        let rest = text[fieldEnd...]
        guard let op = operatorsByLength.first(where: { rest.hasPrefix($0.rawValue) }) else {
            throw ParseError(message: "Unknown operator in condition '\(text)'")
        }
        let value = String(rest.dropFirst(op.rawValue.count))
        if op.isUnary, !value.isEmpty {
            throw ParseError(message: "\(op.rawValue) takes no value in condition '\(text)'")
        }
        return Condition(field: field, op: op, value: value)
    }

    private static func fieldName(_ text: Substring) throws -> String {
        guard !text.isEmpty, text.allSatisfy(isFieldCharacter) else {
            throw ParseError(message: "Invalid field name '\(text)'")
        }
        return String(text)
    }

    private static func isFieldCharacter(_ character: Character) -> Bool {
        character.isASCII && (character.isLowercase || character.isNumber || character == "_" || character == ".")
    }

    private struct Term {
        var text: String
        var isOr: Bool
    }

    /// Splits on single `^` (`^^` is a literal caret); a term starting with `OR` after a `^` is an or-term.
    private static func split(_ text: String) -> [Term] {
        var terms: [Term] = []
        var current = ""
        var isOr = false
        var characters = Array(text)[...]
        while let character = characters.popFirst() {
            guard character == "^" else {
                current.append(character)
                continue
            }
            if characters.first == "^" {
                characters.removeFirst()
                current.append("^")
                continue
            }
            terms.append(Term(text: current, isOr: isOr))
            current = ""
            isOr = false
            if characters.starts(with: "OR"), !characters.starts(with: "ORDERBY") {
                characters.removeFirst(2)
                isOr = true
            }
        }
        terms.append(Term(text: current, isOr: isOr))
        return terms
    }
}

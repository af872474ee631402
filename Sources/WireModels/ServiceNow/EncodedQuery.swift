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

    package struct Condition: Equatable, Sendable {
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

    package static func parse(_ text: String) throws -> EncodedQuery {
        var query = EncodedQuery()
        for term in split(text) {
            if term.text.isEmpty {
                if term.isOr { throw ParseError(message: "'^OR' must follow a condition") }
                continue
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

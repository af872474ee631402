import Foundation

/// A value a record gives for a property, for filtering and ordering.
package enum ODataValue: Sendable, Equatable {
    case string(String)
    case bool(Bool)
    case date(Date)
    case null
}

/// The properties of a Graph resource that queries may name, with their types.
package struct ODataSchema: Sendable {
    package enum Kind: Sendable, Equatable {
        case string
        /// Compared case-insensitively, as Graph's enumerations are written in either casing.
        case enumeration
        case bool
        case date
    }

    package let properties: [String: Kind]
    /// Properties `$select` may name but filters and orderings may not (collections such as `posts`).
    package let selectOnly: Set<String>

    package init(properties: [String: Kind], selectOnly: Set<String> = []) {
        self.properties = properties
        self.selectOnly = selectOnly
    }

    /// The property's declared name for `name` in any casing (OData names are case-sensitive; Graph is not).
    func property(_ name: String) -> (name: String, kind: Kind)? {
        if let kind = properties[name] { return (name, kind) }
        return properties.first { $0.key.caseInsensitiveCompare(name) == .orderedSame }.map { ($0.key, $0.value) }
    }
}

/// A refused query option, answered as Graph's `400 BadRequest`.
package struct ODataError: Error, Sendable, Equatable, CustomStringConvertible {
    package let message: String

    package init(_ message: String) {
        self.message = message
    }

    package var description: String { message }
}

/// The OData system query options of one Graph collection request, parsed and checked before any data is read:
/// `$filter`, `$orderby`, `$select`, `$top`, `$skip`, `$count` and `$expand` where the resource allows it. An
/// option this code does not support is refused, never ignored.
package struct ODataQuery: Sendable {
    package enum Option: String, Sendable, CaseIterable {
        case filter = "$filter"
        case orderby = "$orderby"
        case select = "$select"
        case top = "$top"
        case skip = "$skip"
        case count = "$count"
        case expand = "$expand"
    }

    package struct Ordering: Sendable, Equatable {
        package let property: String
        package let descending: Bool

        package init(property: String, descending: Bool) {
            self.property = property
            self.descending = descending
        }
    }

    package static let maxTop = 1000
    package static let maxSkip = 1_000_000
    package static let maxOptionLength = 4096

    package var filter: ODataFilter?
    package var orderBy: [Ordering] = []
    /// nil: every property.
    package var select: [String]?
    package var top: Int?
    package var skip = 0
    package var count = false
    package var expand: [String] = []

    package init() {}

    /// Parses the query string's system options. `allowed` lists the options this resource takes; `expandable`
    /// the navigation properties `$expand` may name.
    package static func parse(
        _ pairs: [(name: String, value: String)], schema: ODataSchema, allowed: Set<Option>,
        expandable: Set<String> = []
    ) throws(ODataError) -> ODataQuery {
        var query = ODataQuery()
        var seen = Set<Option>()
        for (name, value) in pairs where name.hasPrefix("$") {
            guard let option = Option(rawValue: name.lowercased()) else {
                throw ODataError("Query option '\(name.prefix(40))' is not supported.")
            }
            guard allowed.contains(option) else {
                throw ODataError("Query option '\(option.rawValue)' is not allowed on this resource.")
            }
            guard seen.insert(option).inserted else {
                throw ODataError("Query option '\(option.rawValue)' was specified more than once.")
            }
            guard value.utf8.count <= maxOptionLength else {
                throw ODataError("Query option '\(option.rawValue)' is longer than \(maxOptionLength) bytes.")
            }
            let trimmed = value.trimmingCharacters(in: .whitespaces)
            switch option {
            case .filter:
                query.filter = try ODataFilter.parse(trimmed, schema: schema)
            case .orderby:
                query.orderBy = try parseOrderBy(trimmed, schema: schema)
            case .select:
                query.select = try parseSelect(trimmed, schema: schema, expandable: expandable)
            case .top:
                query.top = try integer(trimmed, option: option, range: 0...maxTop)
            case .skip:
                query.skip = try integer(trimmed, option: option, range: 0...maxSkip)
            case .count:
                switch trimmed.lowercased() {
                case "true": query.count = true
                case "false": query.count = false
                default: throw ODataError("'\(trimmed.prefix(20))' is not a valid value for $count: use true or false.")
                }
            case .expand:
                query.expand = try trimmed.split(separator: ",").map { item throws(ODataError) -> String in
                    let name = item.trimmingCharacters(in: .whitespaces)
                    guard let known = expandable.first(where: { $0.caseInsensitiveCompare(name) == .orderedSame })
                    else {
                        throw ODataError("Could not find a navigation property '\(name.prefix(60))' to expand.")
                    }
                    return known
                }
            }
        }
        return query
    }

    private static func integer(_ text: String, option: Option, range: ClosedRange<Int>) throws(ODataError) -> Int {
        guard let value = InputNumber.parse(text, in: range) else {
            throw ODataError(
                "Invalid value '\(text.prefix(20))' for \(option.rawValue): a whole number from "
                    + "\(range.lowerBound) to \(range.upperBound) is expected.")
        }
        return value
    }

    private static func parseOrderBy(_ text: String, schema: ODataSchema) throws(ODataError) -> [Ordering] {
        let items = text.split(separator: ",")
        guard !items.isEmpty, items.count <= 10 else { throw ODataError("$orderby names 1 to 10 properties.") }
        return try items.map { item throws(ODataError) -> Ordering in
            let words = item.split(separator: " ", omittingEmptySubsequences: true)
            guard (1...2).contains(words.count), let property = schema.property(String(words[0])),
                !schema.selectOnly.contains(property.name)
            else {
                throw ODataError("Could not order by '\(item.trimmingCharacters(in: .whitespaces).prefix(60))'.")
            }
            let direction = words.count == 2 ? words[1].lowercased() : "asc"
            guard direction == "asc" || direction == "desc" else {
                throw ODataError("Order direction '\(direction.prefix(10))' is neither asc nor desc.")
            }
            return Ordering(property: property.name, descending: direction == "desc")
        }
    }

    private static func parseSelect(_ text: String, schema: ODataSchema, expandable: Set<String>) throws(ODataError)
        -> [String]
    {
        let items = text.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
        guard !items.isEmpty else { throw ODataError("$select names no property.") }
        return try items.map { item throws(ODataError) -> String in
            if item == "*" { return item }
            if let property = schema.property(item) { return property.name }
            if let navigation = expandable.first(where: { $0.caseInsensitiveCompare(item) == .orderedSame }) {
                return navigation
            }
            throw ODataError("Could not find a property named '\(item.prefix(60))' to select.")
        }
    }

    /// Orders `records` by ``orderBy``, then by `tiebreak` so pages never overlap; nulls first when ascending.
    package func sorted<Record>(
        _ records: [Record], value: (Record, String) -> ODataValue, tiebreak: (Record, Record) -> Bool
    ) -> [Record] {
        guard !orderBy.isEmpty else { return records.sorted(by: tiebreak) }
        return records.sorted { left, right in
            for ordering in orderBy {
                let order = ODataFilter.compare(value(left, ordering.property), value(right, ordering.property))
                if order != .orderedSame {
                    return ordering.descending ? order == .orderedDescending : order == .orderedAscending
                }
            }
            return tiebreak(left, right)
        }
    }
}

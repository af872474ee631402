import Fluent
import Foundation
import SQLKit
import WireModels

/// Records of one table, as the Table API reads and writes them: every value a string, nil when empty.
struct TableStore {
    typealias Record = [String: String?]

    let table: TableSchema
    let sql: any SQLDatabase

    /// Whether a list counts every match (`X-Total-Count`, the list page's "of N").
    enum Counting: Sendable {
        /// No count (`sysparm_no_count`, an app's own reads).
        case skip
        /// Counted now: the only choice inside a transaction.
        case exact
        /// Remembered until the table changes (see ``TableCounts``): for reads outside a transaction.
        case remembered(TableCounts)
    }

    /// One page of the records matching `query`, and, unless `counting` is `.skip`, how many match in all (a
    /// count reads every match's index entry: the cost that grows with the table).
    func list(_ query: EncodedQuery, limit: Int, offset: Int, counting: Counting) async throws
        -> (records: [Record], total: Int?)
    {
        let filter = try whereClause(query)
        let count = { [sql, table] () async throws -> Int in
            let row = try await sql.raw("SELECT COUNT(*) AS total FROM \(ident: table.databaseTable)" + filter).first()
            return try row?.decode(column: "total", as: Int.self) ?? 0
        }
        let total: Int?
        switch counting {
        case .skip: total = nil
        case .exact: total = try await count()
        case .remembered(let counts): total = try await counts.total(of: table, matching: query, sql: sql, count: count)
        }
        var statement: SQLQueryString =
            "SELECT * FROM \(ident: table.databaseTable)" + filter + (try orderClause(query))
        statement += " LIMIT \(literal: limit) OFFSET \(literal: offset)"
        let rows = try await sql.raw(statement).all()
        return (try rows.map(record), total)
    }

    /// SQLite's query plans of the count and the page `list` runs for `query` (the plan's detail lines), for the
    /// tests that keep the main lists on indexes.
    func sqlitePlans(_ query: EncodedQuery, limit: Int) async throws -> (count: [String], page: [String]) {
        let filter = try whereClause(query)
        func plan(_ statement: SQLQueryString) async throws -> [String] {
            try await sql.raw("EXPLAIN QUERY PLAN " + statement).all().map {
                try $0.decode(column: "detail", as: String.self)
            }
        }
        let count = try await plan("SELECT COUNT(*) AS total FROM \(ident: table.databaseTable)" + filter)
        var statement: SQLQueryString =
            "SELECT * FROM \(ident: table.databaseTable)" + filter + (try orderClause(query))
        statement += " LIMIT \(literal: limit) OFFSET 0"
        return (count, try await plan(statement))
    }

    func find(_ sysId: String) async throws -> Record? {
        guard Self.isSysId(sysId) else { return nil }
        let row = try await sql.raw("SELECT * FROM \(ident: table.databaseTable) WHERE sys_id = \(bind: sysId)").first()
        return try row.map(record)
    }

    /// Inserts `values` (already validated and converted by ``TableWrite``) and returns the stored record.
    func insert(_ values: [String: any Encodable & Sendable]) async throws -> Record {
        let columns = values.keys.sorted()
        try await Self.refusingDuplicates {
            try await sql.insert(into: table.databaseTable)
                .columns(columns)
                .values(columns.map { SQLBind(values[$0]!) })
                .run()
        }
        guard let sysId = values["sys_id"] as? String, let stored = try await find(sysId) else {
            throw DeskError.internalError
        }
        return stored
    }

    /// Inserts a row the desk writes itself (journal and log entries, installed records), without
    /// ``TableWrite``'s conversions and rules: only the system columns are filled in here.
    func insertSystemRow(
        _ values: KeyValuePairs<String, any Encodable & Sendable>, sysId: String = TableWrite.newSysId(),
        by userName: String = "system", at now: Date
    ) async throws {
        let stamp = DeskTime.format(now)
        let system: [(String, any Encodable & Sendable)] = [
            ("sys_id", sysId), ("sys_created_on", stamp), ("sys_created_by", userName), ("sys_updated_on", stamp),
            ("sys_updated_by", userName),
        ]
        let all = system + values.map { ($0.key, $0.value) }
        try await sql.insert(into: table.databaseTable)
            .columns(all.map(\.0))
            .values(all.map { SQLBind($0.1) })
            .run()
    }

    func update(_ sysId: String, _ values: [String: any Encodable & Sendable]) async throws -> Record? {
        // No read first: an update of a missing record changes no row, and the read after it finds nothing.
        guard Self.isSysId(sysId) else { return nil }
        var builder = sql.update(table.databaseTable)
        for (column, value) in values { builder = builder.set(SQLIdentifier(column), to: SQLBind(value)) }
        try await Self.refusingDuplicates { try await builder.where("sys_id", .equal, sysId).run() }
        return try await find(sysId)
    }

    func delete(_ sysId: String) async throws -> Bool {
        guard Self.isSysId(sysId), try await find(sysId) != nil else { return false }
        try await sql.delete(from: table.databaseTable).where("sys_id", .equal, sysId).run()
        return true
    }

    /// A unique-key violation (a second `user_name`, a role given twice) is the caller's mistake, not a 500.
    private static func refusingDuplicates(_ write: () async throws -> Void) async throws {
        do {
            try await write()
        } catch let error as any DatabaseError where error.isConstraintFailure {
            throw DeskError.badRequest("Operation Failed", detail: "Unique key violation detected by database")
        }
    }

    /// `sys_id`: 32 lowercase hex characters.
    static func isSysId(_ value: String) -> Bool {
        value.utf8.count == 32 && value.utf8.allSatisfy { (48...57).contains($0) || (97...102).contains($0) }
    }

    private func record(_ row: any SQLRow) throws -> Record {
        var record = Record()
        for column in table.visibleColumns {
            guard column.type != .journal else {
                record[column.name] = .some(nil)
                continue
            }
            guard row.contains(column: column.name), try !row.decodeNil(column: column.name) else {
                record[column.name] = .some(nil)
                continue
            }
            switch column.type {
            case .integer: record[column.name] = String(try row.decode(column: column.name, as: Int.self))
            case .boolean: record[column.name] = try row.decode(column: column.name, as: Bool.self) ? "true" : "false"
            default: record[column.name] = try row.decode(column: column.name, as: String.self)
            }
        }
        return record
    }

    // MARK: Query translation

    private func whereClause(_ query: EncodedQuery) throws -> SQLQueryString {
        guard !query.groups.isEmpty else { return "" }
        var clause: SQLQueryString = " WHERE "
        for (groupIndex, group) in query.groups.enumerated() {
            if groupIndex > 0 { clause += " AND " }
            clause += "("
            for (index, condition) in group.enumerated() {
                if index > 0 { clause += " OR " }
                clause += try expression(condition)
            }
            clause += ")"
        }
        return clause
    }

    private func orderClause(_ query: EncodedQuery) throws -> SQLQueryString {
        var clause: SQLQueryString = " ORDER BY "
        for (index, ordering) in query.orderings.enumerated() {
            _ = try queryColumn(ordering.field)
            if index > 0 { clause += ", " }
            clause += "\(ident: ordering.field) \(unsafeRaw: ordering.descending ? "DESC" : "ASC")"
        }
        // A stable order, so pages neither repeat nor skip records: sys_id last (the desk's sys_ids grow with
        // each insert), in the direction of the last ordering, so an index on (field, sys_id) serves the whole
        // ORDER BY and a page of a large table is read from the index without sorting; without an ordering,
        // creation time. An ordering by a unique column is total already, and its unique index serves it alone.
        guard let last = query.orderings.last else { return clause + "sys_created_on ASC, sys_id ASC" }
        if table.uniqueColumns.contains(last.field) || last.field == "sys_id" { return clause }
        return clause + ", sys_id \(unsafeRaw: last.descending ? "DESC" : "ASC")"
    }

    private func queryColumn(_ name: String) throws -> TableSchema.Column {
        guard !name.contains(".") else {
            throw DeskError.badRequest("Invalid query", detail: "Dot-walked fields such as '\(name)' are not supported")
        }
        guard let column = table.queryableColumns.first(where: { $0.name == name }) else {
            throw DeskError.badRequest("Invalid query", detail: "Unknown field '\(name)' in table '\(table.name)'")
        }
        return column
    }

    private func expression(_ condition: EncodedQuery.Condition) throws -> SQLQueryString {
        let column = try queryColumn(condition.field)
        let name = condition.field
        let empty: SQLQueryString =
            column.type == .string || column.type == .dateTime || column.isReference
            ? "(\(ident: name) IS NULL OR \(ident: name) = '')" : "\(ident: name) IS NULL"
        switch condition.op {
        case .isEmpty:
            return empty
        case .isNotEmpty:
            return "NOT " + empty
        case .equals where condition.value.isEmpty:
            return empty
        case .equals:
            return "\(ident: name) = \(bind: try typed(condition.value, column))"
        case .notEquals:
            return "(\(ident: name) IS NULL OR \(ident: name) <> \(bind: try typed(condition.value, column)))"
        case .less:
            return "\(ident: name) < \(bind: try typed(condition.value, column))"
        case .lessOrEqual:
            return "\(ident: name) <= \(bind: try typed(condition.value, column))"
        case .greater:
            return "\(ident: name) > \(bind: try typed(condition.value, column))"
        case .greaterOrEqual:
            return "\(ident: name) >= \(bind: try typed(condition.value, column))"
        case .like:
            return like(name, "%\(Self.escapeLike(condition.value))%", negated: false)
        case .notLike:
            return like(name, "%\(Self.escapeLike(condition.value))%", negated: true)
        case .startsWith:
            return like(name, "\(Self.escapeLike(condition.value))%", negated: false)
        case .endsWith:
            return like(name, "%\(Self.escapeLike(condition.value))", negated: false)
        case .isIn, .notIn:
            let values = try condition.values.map { try typed($0, column) }
            guard !values.isEmpty else { return condition.op == .isIn ? "1 = 0" : "1 = 1" }
            return "\(ident: name) \(unsafeRaw: condition.op == .isIn ? "IN" : "NOT IN") (\(binds: values))"
        }
    }

    /// Case-insensitive, as ServiceNow's LIKE is, on SQLite and PostgreSQL alike.
    private func like(_ name: String, _ pattern: String, negated: Bool) -> SQLQueryString {
        let test: SQLQueryString = "LOWER(\(ident: name)) LIKE \(bind: pattern.lowercased()) ESCAPE '\\'"
        return negated ? "(\(ident: name) IS NULL OR NOT " + test + ")" : test
    }

    /// `value` as literal text inside a LIKE pattern with `ESCAPE '\\'`.
    static func escapeLike(_ value: String) -> String {
        value.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "%", with: "\\%")
            .replacingOccurrences(of: "_", with: "\\_")
    }

    private func typed(_ value: String, _ column: TableSchema.Column) throws -> any Encodable & Sendable {
        switch column.type {
        case .integer:
            guard let number = Int(value) else {
                throw DeskError.badRequest(
                    "Invalid query", detail: "'\(value)' is not a number for field '\(column.name)'")
            }
            return number
        case .boolean:
            return value == "true" || value == "1"
        default:
            return value
        }
    }
}

extension TableSchema.Column {
    var isReference: Bool {
        if case .reference = type { return true }
        return false
    }
}

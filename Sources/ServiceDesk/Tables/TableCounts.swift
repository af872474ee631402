import SQLKit
import Synchronization
import WireModels

/// Exact counts of lists, remembered with the table's change number (``AddTableVersions``): a list asked again
/// before anyone wrote to its table answers `X-Total-Count` and the page count without reading every match, and
/// the first list after a write counts again. At 100,000 incidents a count of the active ones reads 45,000 index
/// entries; the change number is one small read.
///
/// Only for reads outside a transaction: inside one, the change number includes the transaction's own uncommitted
/// writes, and a rolled-back transaction's number can be reached again by another's.
package final class TableCounts: Sendable {
    struct Key: Hashable, Sendable {
        let table: String
        let groups: [[EncodedQuery.Condition]]
    }

    private struct Entry {
        let version: Int64
        let total: Int
    }

    /// Bounded: remembered counts are cleared when this many different filters have been counted.
    let capacity: Int
    private let entries = Mutex<[Key: Entry]>([:])

    package init(capacity: Int = 512) {
        self.capacity = max(1, capacity)
    }

    /// How many records of `table` match `query`: remembered when the table's change number is the one it was
    /// counted at, else counted by `count` (and remembered). A table without a change number is always counted.
    func total(
        of table: TableSchema, matching query: EncodedQuery, sql: any SQLDatabase, count: () async throws -> Int
    ) async throws -> Int {
        guard let version = try await Self.version(of: table.databaseTable, sql: sql) else { return try await count() }
        let key = Key(table: table.databaseTable, groups: query.groups)
        if let entry = entries.withLock({ $0[key] }), entry.version == version { return entry.total }
        let total = try await count()
        entries.withLock { entries in
            // A slower reader of an older number must not replace a newer count.
            if let existing = entries[key], existing.version > version { return }
            if entries.count >= capacity && entries[key] == nil { entries.removeAll(keepingCapacity: true) }
            entries[key] = Entry(version: version, total: total)
        }
        return total
    }

    /// The table's change number: the sum of its rows (on PostgreSQL, one per shard), nil for a table without.
    static func version(of databaseTable: String, sql: any SQLDatabase) async throws -> Int64? {
        let row = try await sql.raw(
            """
            SELECT CAST(COALESCE(SUM(version), 0) AS BIGINT) AS version, COUNT(*) AS shards
            FROM \(ident: AddTableVersions.schema) WHERE table_name = \(bind: databaseTable)
            """
        ).first()
        guard let row, try row.decode(column: "shards", as: Int.self) > 0 else { return nil }
        return try row.decode(column: "version", as: Int64.self)
    }

    var count: Int { entries.withLock { $0.count } }
}

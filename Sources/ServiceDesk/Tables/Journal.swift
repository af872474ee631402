import Foundation
import SQLKit

/// Work notes and additional comments (`sys_journal_field`) as the Table API and the incident form read them.
struct Journal {
    struct Entry: Sendable {
        let recordId: String
        /// `work_notes` or `comments`.
        let element: String
        let value: String
        let createdOn: String
        let createdBy: String

        /// ServiceNow's label of the element.
        var label: String { Journal.labels[element] ?? element }
    }

    static let labels = ["work_notes": "Work notes", "comments": "Additional comments"]

    let sql: any SQLDatabase

    /// The entries of the records `ids` of `table`, newest first.
    func entries(of table: String, ids: [String]) async throws -> [Entry] {
        guard !ids.isEmpty else { return [] }
        return try await sql.select()
            .columns("element_id", "element", "value", "sys_created_on", "sys_created_by")
            .from(DeskTables.journal.databaseTable)
            .where("name", .equal, table)
            .where("element_id", .in, ids)
            .orderBy("sys_created_on", .descending)
            .orderBy("sys_id", .descending)
            .all()
            .map { row in
                Entry(
                    recordId: try row.decode(column: "element_id", as: String.self),
                    element: try row.decode(column: "element", as: String.self),
                    value: try row.decode(column: "value", as: String.self),
                    createdOn: try row.decode(column: "sys_created_on", as: String.self),
                    createdBy: try row.decode(column: "sys_created_by", as: String.self))
            }
    }
}

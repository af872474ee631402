import Foundation
import SQLKit

/// Shapes records for the Table API's answer: raw values, display values or both
/// (`sysparm_display_value`), reference links, and only the fields asked for (`sysparm_fields`).
struct RecordPresenter {
    enum DisplayMode: String {
        case raw = "false"
        case display = "true"
        case both = "all"
    }

    let table: TableSchema
    let sql: any SQLDatabase
    let baseURL: String
    let mode: DisplayMode
    let fields: [String]?
    let excludeReferenceLinks: Bool

    func present(_ records: [TableStore.Record]) async throws -> [[String: Any]] {
        var displays = mode == .raw ? [:] : try await referenceDisplays(records)
        if mode != .raw { displays.merge(try await journalDisplays(records)) { $1 } }
        return records.map { record in
            var output: [String: Any] = [:]
            let id = (record["sys_id"] ?? nil) ?? ""
            for column in table.visibleColumns {
                if let fields, !fields.contains(column.name) { continue }
                let value = (record[column.name] ?? nil) ?? ""
                if column.type == .journal {
                    let display = displays["journal/\(id)/\(column.name)"] ?? ""
                    output[column.name] = mode == .both ? ["display_value": display, "value": ""] : display
                    continue
                }
                output[column.name] = present(value, column, displays)
            }
            return output
        }
    }

    private func present(_ value: String, _ column: TableSchema.Column, _ displays: [String: String]) -> Any {
        var link: String?
        var display = column.choices[value] ?? value
        if case .reference(let target) = column.type, !value.isEmpty {
            link = "\(baseURL)/api/now/table/\(target)/\(value)"
            display = displays["\(target)/\(value)"] ?? ""
        }
        switch mode {
        case .raw:
            guard let link, !excludeReferenceLinks else { return value }
            return ["link": link, "value": value]
        case .display:
            guard let link, !excludeReferenceLinks else { return display }
            return ["link": link, "display_value": display]
        case .both:
            var both: [String: String] = ["display_value": display, "value": value]
            if let link, !excludeReferenceLinks { both["link"] = link }
            return both
        }
    }

    /// The journal of every record on the page, newest entry first, as ServiceNow displays it.
    private func journalDisplays(_ records: [TableStore.Record]) async throws -> [String: String] {
        guard table.columns.contains(where: { $0.type == .journal }) else { return [:] }
        let ids = records.compactMap { $0["sys_id"] ?? nil }
        var displays: [String: String] = [:]
        for entry in try await Journal(sql: sql).entries(of: table.name, ids: ids) {
            displays["journal/\(entry.recordId)/\(entry.element)", default: ""] +=
                "\(entry.createdOn) - \(entry.createdBy) (\(entry.label))\n\(entry.value)\n\n"
        }
        return displays
    }

    /// Display values of every record the page references, one query per referenced table.
    private func referenceDisplays(_ records: [TableStore.Record]) async throws -> [String: String] {
        var wanted: [String: Set<String>] = [:]
        for column in table.columns {
            guard case .reference(let target) = column.type else { continue }
            for record in records {
                if let id = record[column.name] ?? nil, !id.isEmpty { wanted[target, default: []].insert(id) }
            }
        }
        var displays: [String: String] = [:]
        for (target, ids) in wanted {
            guard let schema = DeskTables.named(target) else { continue }
            let rows = try await sql.select()
                .columns("sys_id", schema.displayColumn)
                .from(schema.databaseTable)
                .where("sys_id", .in, Array(ids))
                .all()
            for row in rows {
                let id = try row.decode(column: "sys_id", as: String.self)
                displays["\(target)/\(id)"] = try row.decode(column: schema.displayColumn, as: String?.self) ?? ""
            }
        }
        return displays
    }
}

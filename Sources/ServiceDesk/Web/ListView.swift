import Foundation
import ServerSupport
import Vapor
import WireModels

/// A list page of one table: filters, sortable columns and paging, like ServiceNow's `{table}_list.do`.
/// Filters become an encoded query, so the page reads records exactly as the Table API does.
struct ListView: Sendable {
    struct Filter: Sendable {
        enum Kind: Sendable {
            /// Free text matched (LIKE) against any of these fields.
            case text(fields: [String])
            /// One value of a field; `options` are (value, label); an option's value may be an `IN` list.
            case choice(field: String, options: [(String, String)])
        }

        let parameter: String
        let label: String
        let kind: Kind
    }

    struct Column: Sendable {
        let field: String
        let label: String
    }

    let table: TableSchema
    let columns: [Column]
    let filters: [Filter]
    /// Where a row leads, from its `sys_id`; nil for lists without a record page.
    let recordPath: String?
    let defaultOrder: EncodedQuery.Ordering
    let pageSize = 20

    struct Content: Encodable, Sendable {
        struct Head: Encodable, Sendable {
            let label: String
            let href: String
            /// `ascending`, `descending` or `none`, for `aria-sort`.
            let sort: String
        }

        struct Row: Encodable, Sendable {
            let href: String?
            let cells: [String]
        }

        struct FilterField: Encodable, Sendable {
            struct Option: Encodable, Sendable {
                let value: String
                let label: String
                let selected: Bool
            }

            let name: String
            let label: String
            let isText: Bool
            let value: String
            let options: [Option]
        }

        let heading: String
        let action: String
        let heads: [Head]
        let rows: [Row]
        let filters: [FilterField]
        let range: String
        let first: String?
        let previous: String?
        let next: String?
        let last: String?
        let newHref: String?
        let newLabel: String?
        let emptyText: String
        let query: String
    }

    func render(
        _ request: Request, heading: String, newLink: (href: String, label: String)? = nil, notice: String? = nil
    ) async throws -> Response {
        let parameters = request.url.query.map(FormBody.parseQuery) ?? [:]
        var query: EncodedQuery
        do {
            query = try EncodedQuery.parse(parameters["sysparm_query"] ?? "")
        } catch let error as EncodedQuery.ParseError {
            throw DeskError.badRequest("Invalid filter", detail: error.message)
        }
        for filter in filters {
            guard let value = parameters[filter.parameter]?.trimmingCharacters(in: .whitespaces), !value.isEmpty
            else { continue }
            switch filter.kind {
            case .text(let fields):
                query.groups.append(fields.map { EncodedQuery.Condition(field: $0, op: .like, value: value) })
            case .choice(let field, _):
                query.groups.append([
                    EncodedQuery.Condition(field: field, op: value.contains(",") ? .isIn : .equals, value: value)
                ])
            }
        }
        let orderField = parameters["sysparm_orderby"].flatMap { name in columns.first { $0.field == name }?.field }
        let descending = orderField == nil ? defaultOrder.descending : parameters["sysparm_desc"] == "true"
        let ordering = EncodedQuery.Ordering(field: orderField ?? defaultOrder.field, descending: descending)
        query.orderings.insert(ordering, at: 0)
        // Bounded before any arithmetic: a first row past the end shows an empty page, never a trap.
        let firstRow = InputNumber.parse(parameters["sysparm_first_row"] ?? "1", in: 1...TableAPIController.maxOffset)
        let offset = (firstRow ?? 1) - 1

        let sql = try request.sqlDatabase
        let (records, counted) = try await TableStore(table: table, sql: sql).list(
            query, limit: pageSize, offset: offset, counting: .remembered(request.desk.tableCounts))
        let total = counted ?? records.count
        let presenter = RecordPresenter(
            table: table, sql: sql, baseURL: "", mode: .display, fields: nil, excludeReferenceLinks: true)
        let shown = try await presenter.present(records)

        func link(_ changes: [String: String?]) -> String {
            var merged = parameters
            for (name, value) in changes { merged[name] = value }
            var components = URLComponents()
            components.path = request.url.path
            components.queryItems = merged.filter { !$0.value.isEmpty }.sorted { $0.key < $1.key }
                .map { URLQueryItem(name: $0.key, value: $0.value) }
            return components.string ?? request.url.path
        }
        let heads = columns.map { column in
            let current = column.field == ordering.field
            return Content.Head(
                label: column.label,
                href: link([
                    "sysparm_orderby": column.field,
                    "sysparm_desc": current && !ordering.descending ? "true" : "false", "sysparm_first_row": nil,
                ]),
                sort: current ? (ordering.descending ? "descending" : "ascending") : "none")
        }
        let rows = zip(records, shown).map { record, values in
            Content.Row(
                href: recordPath.map { "\($0)?sys_id=\((record["sys_id"] ?? nil) ?? "")" },
                cells: columns.map { column in (values[column.field] as? String) ?? "" })
        }
        let filterFields = filters.map { filter in
            let value = parameters[filter.parameter] ?? ""
            switch filter.kind {
            case .text:
                return Content.FilterField(
                    name: filter.parameter, label: filter.label, isText: true, value: value, options: [])
            case .choice(_, let options):
                return Content.FilterField(
                    name: filter.parameter, label: filter.label, isText: false, value: value,
                    options: [.init(value: "", label: "All", selected: value.isEmpty)]
                        + options.map { .init(value: $0.0, label: $0.1, selected: $0.0 == value) })
            }
        }
        let lastOffset = total == 0 ? 0 : ((total - 1) / pageSize) * pageSize
        func pageLink(_ pageOffset: Int) -> String { link(["sysparm_first_row": String(pageOffset + 1)]) }
        let content = Content(
            heading: heading, action: request.url.path, heads: heads, rows: rows, filters: filterFields,
            range: total == 0 ? "No records" : "\(offset + 1) to \(min(offset + pageSize, total)) of \(total)",
            first: offset > 0 ? pageLink(0) : nil,
            previous: offset > 0 ? pageLink(max(0, offset - pageSize)) : nil,
            next: offset + pageSize < total ? pageLink(offset + pageSize) : nil,
            last: offset + pageSize < total ? pageLink(lastOffset) : nil,
            newHref: newLink?.href, newLabel: newLink?.label,
            emptyText: "No records match this filter.", query: parameters["sysparm_query"] ?? "")
        return try await request.page("list", title: heading, content, notice: notice)
    }
}

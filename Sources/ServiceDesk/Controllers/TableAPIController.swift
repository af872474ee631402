import Foundation
import SQLKit
import ServerSupport
import Vapor
import WireModels

/// ServiceNow's Table API: `/api/now/table/{table}[/{sys_id}]` (and `/api/now/v2/table/…`).
struct TableAPIController: RouteCollection {
    /// Offsets beyond this read an empty page like any offset past the last record; the bound keeps
    /// `offset + limit` far from overflow.
    static let maxOffset = 1 << 48

    func boot(routes: any RoutesBuilder) throws {
        for base in [routes.grouped("api", "now", "table"), routes.grouped("api", "now", "v2", "table")] {
            base.get(":table", use: list)
            base.post(":table", use: create)
            base.get(":table", ":sys_id", use: read)
            base.put(":table", ":sys_id", use: update)
            base.patch(":table", ":sys_id", use: update)
            base.delete(":table", ":sys_id", use: delete)
        }
    }

    func list(_ request: Request) async throws -> Response {
        let (table, _) = try await authorize(request, \.read)
        let query: EncodedQuery
        do {
            query = try EncodedQuery.parse(parameter(request, "sysparm_query") ?? "", limits: .standard)
        } catch let error as EncodedQuery.ParseError {
            throw DeskError.badRequest("Invalid query", detail: error.message)
        }
        // ServiceNow's default page is its maximum page; a larger limit is cut to it.
        let maxPageSize = request.desk.config.maxPageSize
        let limit = min(try integerParameter(request, "sysparm_limit") ?? maxPageSize, maxPageSize)
        let offset = min(try integerParameter(request, "sysparm_offset") ?? 0, Self.maxOffset)
        guard offset >= 0 else {
            throw DeskError.badRequest("offset is \(offset)", detail: "Negative offset is not supported")
        }
        guard limit > 0 else { throw DeskError.badRequest("limit is \(limit)", detail: "Limit must be positive") }
        let store = TableStore(table: table, sql: try sql(request))
        // As ServiceNow: `sysparm_no_count=true` skips the count, and with it `X-Total-Count` and the last page's link.
        let counting: TableStore.Counting =
            flag(request, "sysparm_no_count") ? .skip : .remembered(request.desk.tableCounts)
        let (records, total) = try await store.list(query, limit: limit, offset: offset, counting: counting)
        let response = try envelope(try await presenter(request, table).present(records), single: false, table: table)
        if let total { response.headers.replaceOrAdd(name: "X-Total-Count", value: String(total)) }
        if !flag(request, "sysparm_suppress_pagination_header") {
            response.headers.replaceOrAdd(
                name: .link,
                value: pageLinks(
                    request, limit: limit, offset: offset, total: total, pageIsFull: records.count == limit))
        }
        return response
    }

    func read(_ request: Request) async throws -> Response {
        let (table, _) = try await authorize(request, \.read)
        guard let record = try await TableStore(table: table, sql: try sql(request)).find(sysId(request)) else {
            throw DeskError.recordNotFound
        }
        return try envelope(try await presenter(request, table).present([record]), single: true, table: table)
    }

    func create(_ request: Request) async throws -> Response {
        let (table, principal) = try await authorize(request, \.write)
        let fields = RecordService.Fields(try TableWrite.fields(of: bodyData(request)))
        let record = try await RecordService(request: request, by: principal.userName).insert(table, fields)
        request.logger.info(
            "Record created", metadata: ["table": "\(table.name)", "sys_id": "\((record["sys_id"] ?? nil) ?? "")"])
        return try envelope(
            try await presenter(request, table).present([record]), single: true, table: table, status: .created)
    }

    func update(_ request: Request) async throws -> Response {
        let (table, principal) = try await authorize(request, \.write)
        let id = try sysId(request)
        guard try await TableStore(table: table, sql: try sql(request)).find(id) != nil else {
            throw DeskError.recordNotFound
        }
        let fields = RecordService.Fields(try TableWrite.fields(of: bodyData(request)))
        guard let record = try await RecordService(request: request, by: principal.userName).update(table, id, fields)
        else { throw DeskError.recordNotFound }
        return try envelope(try await presenter(request, table).present([record]), single: true, table: table)
    }

    func delete(_ request: Request) async throws -> Response {
        let (table, principal) = try await authorize(request, \.delete)
        guard try await RecordService(request: request, by: principal.userName).delete(table, sysId(request)) else {
            throw DeskError.recordNotFound
        }
        return Response(status: .noContent)
    }

    // MARK: Helpers

    private func authorize(_ request: Request, _ operation: KeyPath<TableAccess, Set<String>>) async throws
        -> (TableSchema, DeskPrincipal)
    {
        try await authorizeAny(request) { access in access[keyPath: operation] }
    }

    private func authorize(_ request: Request, _ operation: KeyPath<TableAccess, Set<String>?>) async throws
        -> (TableSchema, DeskPrincipal)
    {
        try await authorizeAny(request) { access in access[keyPath: operation] }
    }

    private func authorizeAny(_ request: Request, roles: (TableAccess) -> Set<String>?) async throws
        -> (TableSchema, DeskPrincipal)
    {
        let principal = try await request.desk.authenticator.principal(for: request)
        let name = try request.parameters.require("table")
        guard let table = DeskTables.named(name) else { throw DeskError.invalidTable(name) }
        if let needed = roles(table.access), !principal.hasAny(of: needed) { throw DeskError.notAuthorized }
        return (table, principal)
    }

    private func sql(_ request: Request) throws -> any SQLDatabase {
        guard let sql = request.db as? any SQLDatabase else { throw DeskError.internalError }
        return sql
    }

    private func sysId(_ request: Request) throws -> String {
        try request.parameters.require("sys_id")
    }

    private func bodyData(_ request: Request) -> Data? {
        request.body.data.map { Data($0.readableBytesView) }
    }

    /// A query parameter. The query string is parsed once per request on its bytes (Vapor's Codable query
    /// decoder parses the whole string again for every parameter asked for), leniently: bytes that are not
    /// UTF-8 become U+FFFD, so such a value matches nothing.
    private func parameter(_ request: Request, _ name: String) -> String? {
        if let parsed = request.storage[QueryParametersKey.self] { return parsed[name] }
        let parsed = request.url.query.map(FormBody.parseQuery) ?? [:]
        request.storage[QueryParametersKey.self] = parsed
        return parsed[name]
    }

    private struct QueryParametersKey: StorageKey {
        typealias Value = [String: String]
    }

    /// A boolean parameter: ServiceNow takes `true` in any case (pysnow sends Python's `True`).
    private func flag(_ request: Request, _ name: String) -> Bool {
        parameter(request, name)?.lowercased() == "true"
    }

    /// A whole-number parameter; one too large for a 64-bit integer counts as the largest (it is clamped by
    /// the caller, never added to).
    private func integerParameter(_ request: Request, _ name: String) throws -> Int? {
        guard let text = parameter(request, name), !text.isEmpty else { return nil }
        if let value = InputNumber.parse(text, in: Int.min...Int.max) { return value }
        let digits = text.first == "-" ? text.dropFirst() : Substring(text)
        guard !digits.isEmpty, digits.utf8.allSatisfy({ (48...57).contains($0) }) else {
            throw DeskError.badRequest("Invalid \(name)", detail: "'\(text.prefix(64))' is not a number")
        }
        return text.first == "-" ? Int.min : Int.max
    }

    private func presenter(_ request: Request, _ table: TableSchema) throws -> RecordPresenter {
        let mode =
            RecordPresenter.DisplayMode(
                rawValue: parameter(request, "sysparm_display_value")?.lowercased() ?? "false") ?? .raw
        let fields = parameter(request, "sysparm_fields").flatMap { text -> [String]? in
            let names = text.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter {
                !$0.isEmpty
            }
            return names.isEmpty ? nil : names
        }
        return RecordPresenter(
            table: table, sql: try sql(request), baseURL: request.desk.config.endpoint.publicURL, mode: mode,
            fields: fields,
            excludeReferenceLinks: flag(request, "sysparm_exclude_reference_link"))
    }

    private func envelope(
        _ records: [[String: Any]], single: Bool, table: TableSchema, status: HTTPResponseStatus = .ok
    ) throws -> Response {
        let response: Response
        if let bytes = TableJSON.envelope(records, single: single, table: table) {
            response = Response(status: status, body: .init(buffer: ByteBuffer(bytes: bytes)))
        } else {
            let result: Any = single ? records.first ?? [:] : records
            let data = try JSONSerialization.data(
                withJSONObject: ["result": result], options: [.withoutEscapingSlashes])
            response = Response(status: status, body: .init(data: data))
        }
        response.headers.contentType = .json
        return response
    }

    /// ServiceNow's `Link` header: first, prev, next and last pages of the same query.
    private func pageLinks(_ request: Request, limit: Int, offset: Int, total: Int?, pageIsFull: Bool) -> String {
        var components = URLComponents(string: request.desk.config.endpoint.publicURL + request.url.path)
        let kept = (URLComponents(string: request.url.string)?.queryItems ?? []).filter {
            $0.name != "sysparm_offset" && $0.name != "sysparm_limit"
        }
        func link(_ pageOffset: Int, _ rel: String) -> String {
            components?.queryItems =
                kept + [
                    URLQueryItem(name: "sysparm_limit", value: String(limit)),
                    URLQueryItem(name: "sysparm_offset", value: String(pageOffset)),
                ]
            return "<\(components?.string ?? "")>;rel=\"\(rel)\""
        }
        // limit ≥ 1 and offset ≤ maxOffset: none of this arithmetic can overflow.
        var links = [link(0, "first")]
        if offset > 0 { links.append(link(max(offset - limit, 0), "prev")) }
        guard let total else {
            // Uncounted: a full page may have a next one; the last page is unknown.
            if pageIsFull { links.append(link(offset + limit, "next")) }
            return links.joined(separator: ",")
        }
        let last = total == 0 ? 0 : ((total - 1) / limit) * limit
        if offset + limit < total { links.append(link(offset + limit, "next")) }
        links.append(link(last, "last"))
        return links.joined(separator: ",")
    }
}

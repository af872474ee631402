import Foundation
import SQLKit
import Vapor
import WireModels

/// What an admin reads and decides: the system log, the outbound HTTP log and the cross-scope privileges.
struct LogPages: RouteCollection {
    func boot(routes: any RoutesBuilder) throws {
        routes.get(DeskPath.syslogList.pathComponents) { request in
            _ = try request.requireWebUser(WebAccess.admin)
            return try await Self.syslog.render(request, heading: "System log")
        }
        routes.get(DeskPath.outboundLogList.pathComponents) { request in
            _ = try request.requireWebUser(WebAccess.admin)
            return try await Self.outbound.render(request, heading: "Outbound HTTP requests")
        }
        routes.get(DeskPath.syslog.pathComponents) { request in
            _ = try request.requireWebUser(WebAccess.admin)
            return try await entry(
                request, table: DeskTables.syslog, heading: "System log entry", back: DeskPath.syslogList)
        }
        routes.get(DeskPath.outboundLog.pathComponents) { request in
            _ = try request.requireWebUser(WebAccess.admin)
            return try await entry(
                request, table: DeskTables.outboundHTTPLog, heading: "Outbound HTTP request",
                back: DeskPath.outboundLogList)
        }
        routes.get(DeskPath.scopePrivilegeList.pathComponents) { request in
            _ = try request.requireWebUser(WebAccess.admin)
            return try await Self.privileges.render(request, heading: "Cross-scope privileges")
        }
        routes.get(DeskPath.scopePrivilege.pathComponents) { request in
            _ = try request.requireWebUser(WebAccess.admin)
            return try await privilegeForm(request, sysId: request.query["sys_id"] ?? "")
        }
        routes.form(DeskPath.scopePrivilege.pathComponents, roles: WebAccess.admin) { request, form in
            let sql = try request.sqlDatabase
            let sysId = form["sys_id"] ?? ""
            let store = TableStore(table: DeskTables.scopePrivilege, sql: sql)
            guard let existing = try await store.find(sysId) else { throw WebError.notFound("The privilege") }
            guard let status = form["status"], ["allowed", "denied", "requested"].contains(status) else {
                throw DeskError.badRequest("Unknown status", detail: "Choose Allowed, Denied or Requested.")
            }
            _ = try await RecordService(request: request, by: form.user.userName).update(
                DeskTables.scopePrivilege, sysId, .init(["status": status]))
            try await request.systemLog().write(
                .information, source: "sys_scope_privilege",
                "\(form.user.userName) set \((existing["operation"] ?? nil) ?? "") on "
                    + "'\((existing["target_name"] ?? nil) ?? "")' for scope '\((existing["source_scope"] ?? nil) ?? "")' to \(status)",
                correlationId: request.correlationId)
            return request.seeOther(DeskPath.scopePrivilegeList, notice: "Privilege saved: \(status).")
        }
    }

    static let syslog = ListView(
        table: DeskTables.syslog,
        columns: [
            .init(field: "sys_created_on", label: "Created"), .init(field: "level", label: "Level"),
            .init(field: "source", label: "Source"), .init(field: "message", label: "Message"),
            .init(field: "correlation_id", label: "Correlation ID"),
        ],
        filters: [
            .init(parameter: "sysparm_source", label: "Source", kind: .text(fields: ["source"])),
            .init(
                parameter: "sysparm_level", label: "Level",
                kind: .choice(
                    field: "level",
                    options: ["2", "1", "0", "-1"].map { ($0, DeskTables.syslogLevels[$0] ?? $0) })),
            .init(
                parameter: "sysparm_search", label: "Message or correlation ID",
                kind: .text(fields: ["message", "correlation_id", "sys_id"])),
        ],
        recordPath: DeskPath.syslog, defaultOrder: .init(field: "sys_created_on", descending: true))

    static let outbound = ListView(
        table: DeskTables.outboundHTTPLog,
        columns: [
            .init(field: "sys_created_on", label: "Created"), .init(field: "http_method", label: "Method"),
            .init(field: "hostname", label: "Host"), .init(field: "path", label: "Path"),
            .init(field: "response_status", label: "Status"), .init(field: "response_time", label: "Time (ms)"),
            .init(field: "request_size", label: "Request bytes"),
            .init(field: "response_size", label: "Response bytes"),
            .init(field: "error_message", label: "Error"), .init(field: "correlation_id", label: "Correlation ID"),
        ],
        filters: [
            .init(parameter: "sysparm_host", label: "Host", kind: .text(fields: ["hostname"])),
            .init(
                parameter: "sysparm_search", label: "Path, error or correlation ID",
                kind: .text(fields: ["path", "error_message", "correlation_id", "sys_id"])),
        ],
        recordPath: DeskPath.outboundLog, defaultOrder: .init(field: "sys_created_on", descending: true))

    static let privileges = ListView(
        table: DeskTables.scopePrivilege,
        columns: [
            .init(field: "source_scope", label: "Source scope"), .init(field: "target_name", label: "Target table"),
            .init(field: "operation", label: "Operation"), .init(field: "status", label: "Status"),
            .init(field: "sys_updated_on", label: "Updated"),
        ],
        filters: [
            .init(
                parameter: "sysparm_search", label: "Scope or table",
                kind: .text(fields: ["source_scope", "target_name"]))
        ],
        recordPath: DeskPath.scopePrivilege, defaultOrder: .init(field: "target_name", descending: false))

    struct Entry: Encodable, Sendable {
        let heading: String
        let facts: [RecordForm.Fact]
        let backHref: String
    }

    /// One log entry with every field (display values: level names, and so on).
    private func entry(_ request: Request, table: TableSchema, heading: String, back: String) async throws
        -> Response
    {
        let sql = try request.sqlDatabase
        guard let record = try await TableStore(table: table, sql: sql).find(request.query["sys_id"] ?? "") else {
            throw WebError.notFound("The entry")
        }
        let shown = try await RecordPresenter(
            table: table, sql: sql, baseURL: "", mode: .display, fields: nil, excludeReferenceLinks: true
        ).present([record])[0]
        let facts = table.visibleColumns.map { column in
            RecordForm.Fact(label: column.name, value: shown[column.name] as? String ?? "", href: nil)
        }
        return try await request.page("entry", title: heading, Entry(heading: heading, facts: facts, backHref: back))
    }

    private func privilegeForm(_ request: Request, sysId: String) async throws -> Response {
        guard
            let record = try await TableStore(table: DeskTables.scopePrivilege, sql: try request.sqlDatabase).find(
                sysId)
        else { throw WebError.notFound("The privilege") }
        let value = { (name: String) in (record[name] ?? nil) ?? "" }
        let form = RecordForm(
            heading: "Cross-scope privilege", action: DeskPath.scopePrivilege, sysId: sysId,
            fields: [
                .readonly("Source scope", value("source_scope")), .readonly("Target scope", value("target_scope")),
                .readonly("Target table", value("target_name")), .readonly("Operation", value("operation")),
                .select(
                    "status", "Status", value("status"),
                    [("allowed", "Allowed"), ("denied", "Denied"), ("requested", "Requested")],
                    help: "Denied: the scope's requests for this operation fail with the cross-scope policy error."),
            ],
            buttons: [.init(value: "save", title: "Update", id: "save")], secondaryButtons: [],
            backHref: DeskPath.scopePrivilegeList, error: nil, secret: nil, secretLabel: nil, facts: [])
        return try await request.page("record", title: form.heading, form)
    }
}

import Foundation
import SQLKit
import Synchronization
import Vapor
import WireModels

/// `incident_list.do` and `incident.do`: the agents' incident list and form.
struct IncidentPages: RouteCollection {
    static let categories = [
        ("inquiry", "Inquiry / Help"), ("software", "Software"), ("hardware", "Hardware"), ("network", "Network"),
        ("database", "Database"),
    ]
    static let closeCodes = [
        "Solved (Work Around)", "Solved (Permanently)", "Solved Remotely (Work Around)",
        "Solved Remotely (Permanently)", "Not Solved (Not Reproducible)", "Not Solved (Too Costly)",
        "Closed/Resolved by Caller",
    ]
    static let stateOrder = ["1", "2", "3", "6", "7", "8"]

    func boot(routes: any RoutesBuilder) throws {
        routes.get(DeskPath.incidentList.pathComponents) { request in
            let user = try request.requireWebUser(WebAccess.incidentsRead)
            return try await Self.list.render(
                request, heading: "Incidents",
                newLink: user.principal.hasAny(of: WebAccess.incidentsWrite)
                    ? (DeskPath.new(DeskPath.incident), "New incident") : nil)
        }
        routes.get(DeskPath.incident.pathComponents, use: show)
        routes.form(DeskPath.incident.pathComponents, roles: WebAccess.incidentsWrite, use: save)
        routes.get(DeskPath.userPicker.pathComponents, use: pickUsers)
    }

    static let list = ListView(
        table: DeskTables.incident,
        columns: [
            .init(field: "number", label: "Number"), .init(field: "opened_at", label: "Opened"),
            .init(field: "short_description", label: "Short description"), .init(field: "caller_id", label: "Caller"),
            .init(field: "priority", label: "Priority"), .init(field: "state", label: "State"),
            .init(field: "category", label: "Category"), .init(field: "assigned_to", label: "Assigned to"),
            .init(field: "sys_updated_on", label: "Updated"),
        ],
        filters: [
            .init(
                parameter: "sysparm_search", label: "Search",
                kind: .text(fields: ["number", "short_description", "description"])),
            .init(
                parameter: "sysparm_state", label: "State",
                kind: .choice(
                    field: "state",
                    options: [("1,2,3", "Active")] + stateOrder.map { ($0, DeskTables.incidentStates[$0] ?? $0) })),
            .init(
                parameter: "sysparm_priority", label: "Priority",
                kind: .choice(
                    field: "priority", options: ["1", "2", "3", "4", "5"].map { ($0, DeskTables.priorities[$0] ?? $0) })
            ),
        ],
        recordPath: DeskPath.incident, defaultOrder: .init(field: "number", descending: true))

    // MARK: Form

    struct Option: Encodable, Sendable {
        let value: String
        let label: String
        let selected: Bool
    }

    /// A reference field: the text in the box (the user ID, which the desk resolves; or what was typed) and the
    /// display name beside it.
    struct Reference: Encodable, Sendable {
        let value: String
        let label: String
    }

    struct JournalEntry: Encodable, Sendable {
        let time: String
        let author: String
        let kind: String
        let isWorkNote: Bool
        let text: String
    }

    struct Form: Encodable, Sendable {
        let isNew: Bool
        let sysId: String
        let number: String
        let shortDescription: String
        let description: String
        let closeNotes: String
        let priority: String
        let stateLabel: String
        let openedAt: String
        let resolvedAt: String
        let closedAt: String
        let caller: Reference
        let assignee: Reference
        let categories: [Option]
        let impacts: [Option]
        let urgencies: [Option]
        let states: [Option]
        let closeCodes: [Option]
        let journal: [JournalEntry]
        let canWrite: Bool
        let canResolve: Bool
        let canReopen: Bool
        let tabs: [IncidentFormTabs.Rendered]
        let error: String?
    }

    private func show(_ request: Request) async throws -> Response {
        let user = try request.requireWebUser(WebAccess.incidentsRead)
        let sysId = request.query[String.self, at: "sys_id"] ?? "-1"
        if sysId == "-1" {
            guard user.principal.hasAny(of: WebAccess.incidentsWrite) else { throw WebError.notAllowed }
            return try await form(request, record: ["state": "1", "impact": "3", "urgency": "3"], error: nil)
        }
        let store = TableStore(table: DeskTables.incident, sql: try request.sqlDatabase)
        guard let record = try await store.find(sysId) else { throw WebError.notFound("The incident") }
        return try await form(request, record: record.compactMapValues { $0 }, error: nil)
    }

    private func save(_ request: Request, _ form: WebForm) async throws -> Response {
        let sql = try request.sqlDatabase
        let store = TableStore(table: DeskTables.incident, sql: sql)
        let action = form["sysparm_action"] ?? "update"
        let sysId = form["sys_id"] ?? "-1"
        let existing = sysId == "-1" ? nil : try await store.find(sysId)
        if sysId != "-1", existing == nil { throw WebError.notFound("The incident") }

        var fields: [String: Any] = [:]
        for name in ["short_description", "description", "caller_id", "category", "impact", "urgency", "assigned_to"] {
            if let value = form[name] { fields[name] = value.trimmingCharacters(in: .whitespacesAndNewlines) }
        }
        if let state = form["state"], action == "update" || action == "insert" { fields["state"] = state }
        for name in ["close_code", "close_notes", "work_notes", "comments"] {
            if let value = form[name] { fields[name] = value.trimmingCharacters(in: .whitespacesAndNewlines) }
        }
        var merged = (existing ?? [:]).compactMapValues { $0 }
        for (name, value) in fields { merged[name] = value as? String }

        switch action {
        case "resolve":
            guard form.text("close_code") != nil, form.text("close_notes") != nil else {
                return try await self.form(
                    request, record: merged,
                    error: "To resolve the incident, choose a resolution code and write resolution notes.",
                    status: .badRequest)
            }
            fields["state"] = "6"
        case "reopen":
            guard existing?["state"] == "6" else {
                return try await self.form(
                    request, record: merged, error: "Only a resolved incident can be reopened.", status: .badRequest)
            }
            fields["state"] = "2"
            fields["close_code"] = ""
            fields["close_notes"] = ""
        case "insert", "update":
            break
        default:
            throw DeskError.badRequest("Unknown action", detail: "The form asked for '\(action)'.")
        }
        guard (fields["short_description"] as? String).map({ !$0.isEmpty }) ?? (existing != nil) else {
            return try await self.form(
                request, record: merged, error: "Short description is required.", status: .badRequest)
        }

        let service = RecordService(request: request, by: form.user.userName)
        let record: TableStore.Record
        do {
            if let existing, let id = existing["sys_id"] ?? nil {
                guard let updated = try await service.update(DeskTables.incident, id, .init(fields)) else {
                    throw WebError.notFound("The incident")
                }
                record = updated
            } else {
                record = try await service.insert(DeskTables.incident, .init(fields))
            }
        } catch let error as DeskError where error.kind == .badRequest {
            return try await self.form(request, record: merged, error: error.description, status: .badRequest)
        }
        let number = (record["number"] ?? nil) ?? ""
        request.logger.info(
            "Incident saved from the web form", metadata: ["number": "\(number)", "action": "\(action)"])
        let outcome =
            switch action {
            case "insert": "created"
            case "resolve": "resolved"
            case "reopen": "reopened"
            default: "updated"
            }
        return request.seeOther(
            DeskPath.record(DeskPath.incident, sysId: (record["sys_id"] ?? nil) ?? ""),
            notice: "Incident \(number) \(outcome).")
    }

    /// The reference pickers' search: `?field=caller_id|assigned_to&q=…` → up to 10 users as JSON, for those who
    /// may read incidents; `assigned_to` offers agents only.
    private func pickUsers(_ request: Request) async throws -> Response {
        _ = try request.requireWebUser(WebAccess.incidentsRead)
        let field = request.query[String.self, at: "field"] ?? "caller_id"
        guard ["caller_id", "assigned_to", "opened_by"].contains(field) else {
            throw Abort(.badRequest, reason: "Unknown reference field.")
        }
        let text = String((request.query[String.self, at: "q"] ?? "").prefix(100))
        let found = try await DeskQueries(sql: try request.sqlDatabase).searchUsers(
            text, agentsOnly: field == "assigned_to", limit: 10)
        let response = Response(status: .ok)
        try response.content.encode(["result": found], as: .json)
        response.headers.replaceOrAdd(name: .cacheControl, value: "no-store")
        return response
    }

    private func form(
        _ request: Request, record: [String: String], error: String?, status: HTTPResponseStatus = .ok
    ) async throws -> Response {
        let user = try request.requireWebUser(WebAccess.incidentsRead)
        let sql = try request.sqlDatabase
        let sysId = record["sys_id"] ?? "-1"
        let isNew = sysId == "-1"
        let state = record["state"] ?? "1"
        let canWrite = user.principal.hasAny(of: WebAccess.incidentsWrite)

        // Only the two users the record names: a large desk's users are found by the pickers' search.
        let named = try await DeskQueries(sql: sql).users([record["caller_id"] ?? "", record["assigned_to"] ?? ""])
        func reference(_ field: String) -> Reference {
            let value = record[field] ?? ""
            if let user = named[value] { return Reference(value: user.userName, label: user.name) }
            return Reference(value: value, label: "")
        }
        func options(_ pairs: [(String, String)], _ field: String) -> [Option] {
            pairs.map { Option(value: $0.0, label: $0.1, selected: record[field] == $0.0) }
        }
        let levels = ["1", "2", "3"].map { ($0, DeskTables.impactOrUrgency[$0] ?? $0) }

        var journal: [JournalEntry] = []
        var tabs: [IncidentFormTabs.Rendered] = []
        if !isNew {
            journal = try await Journal(sql: sql).entries(of: DeskTables.incident.name, ids: [sysId]).map { entry in
                JournalEntry(
                    time: entry.createdOn, author: entry.createdBy, kind: entry.label,
                    isWorkNote: entry.element == "work_notes", text: entry.value)
            }
            tabs = await IncidentFormTabs.render(
                request.application.incidentFormTabs.all.filter { user.principal.hasAny(of: $0.roles) },
                incidentSysId: sysId, number: record["number"] ?? sysId, request: request)
        }
        let content = Form(
            isNew: isNew, sysId: sysId, number: record["number"] ?? "",
            shortDescription: record["short_description"] ?? "",
            description: record["description"] ?? "", closeNotes: record["close_notes"] ?? "",
            priority: DeskTables.priorities[
                String(
                    TableRules.priority(
                        impact: record["impact"].flatMap { Int($0) }, urgency: record["urgency"].flatMap { Int($0) }))]
                ?? "",
            stateLabel: DeskTables.incidentStates[state] ?? state, openedAt: record["opened_at"] ?? "",
            resolvedAt: record["resolved_at"] ?? "", closedAt: record["closed_at"] ?? "",
            caller: reference("caller_id"), assignee: reference("assigned_to"),
            categories: options(Self.categories, "category"),
            impacts: options(levels, "impact"), urgencies: options(levels, "urgency"),
            states: options(Self.stateOrder.map { ($0, DeskTables.incidentStates[$0] ?? $0) }, "state"),
            closeCodes: [Option(value: "", label: "", selected: (record["close_code"] ?? "").isEmpty)]
                + options(Self.closeCodes.map { ($0, $0) }, "close_code"),
            journal: journal, canWrite: canWrite, canResolve: canWrite && !isNew && ["1", "2", "3"].contains(state),
            canReopen: canWrite && state == "6", tabs: tabs, error: error)
        return try await request.page(
            "incident", title: isNew ? "New incident" : (record["number"] ?? "Incident"), content, status: status)
    }
}

import Foundation
import SQLKit
import Vapor
import WireModels

/// The engineers' console: the support team signs in through the authority as users of the support provider's
/// own tenant (`M365_CONNECTOR_SUPPORT_TENANT`), lists cases across tenants with filters — test-environment cases
/// apart and marked "do not contact" — works a case (thread, update, status, the delivery state of every update
/// to the desk) and watches the deliveries, replaying a parked one.
struct ConsolePages: RouteCollection {
    static let signIn = DelegatedSignIn(
        path: "/console", flowCookie: "m365_console_flow", sessionCookie: "m365_console_session",
        purpose: "connector-console-")

    func boot(routes: any RoutesBuilder) throws {
        let pages = routes.grouped("console").grouped(ProfilePageMiddleware())
        pages.get(use: list)
        pages.post("sign-in", use: startSignIn)
        pages.get("signed-in") { request in try await Self.signIn.finish(request) }
        pages.post("sign-out") { request in Self.signIn.signOut(request) }
        pages.get("cases", ":number", use: showCase)
        pages.post("cases", ":number", "updates", use: postUpdate)
        pages.get("deliveries", use: deliveries)
        pages.post("deliveries", "replay", use: replay)
    }

    /// The support provider's tenant, or a page saying the console is off.
    private func supportTenant(_ request: Request) async throws -> TenantRecord {
        guard let name = request.application.connector.config.supportTenant,
            let tenant = try await request.application.tenants(request.db).find(name)
        else {
            throw ProfilePageError(
                .serviceUnavailable,
                "The engineers' console is off: M365_CONNECTOR_SUPPORT_TENANT names no tenant this Connector serves.")
        }
        return tenant
    }

    /// The signed-in engineer (a user of the support tenant), or nil to show the sign-in page.
    private func engineer(_ request: Request) async throws -> (Caller, DelegatedSignIn.Session)? {
        let tenant = try await supportTenant(request)
        guard let (caller, session) = try await Self.signIn.session(request) else { return nil }
        guard caller.tenantId == tenant.tenantId else {
            throw ProfilePageError(
                .forbidden, "The console is for the support team of \(tenant.displayName); sign out and sign in there.")
        }
        return (caller, session)
    }

    private func requireEngineerForm(_ request: Request) async throws -> Caller {
        let tenant = try await supportTenant(request)
        let (caller, _) = try await Self.signIn.requireForm(request)
        guard caller.tenantId == tenant.tenantId else {
            throw ProfilePageError(.forbidden, "The console is for the support team of \(tenant.displayName).")
        }
        return caller
    }

    func startSignIn(_ request: Request) async throws -> Response {
        try Self.signIn.start(try await supportTenant(request), request)
    }

    // MARK: Cases

    struct CaseRow: Encodable {
        let number: String
        let tenant: String
        let title: String
        let severity: String
        let status: String
        let contact: String
        let updated: String
        let age: String
    }

    struct Choice: Encodable {
        let value: String
        let label: String
        let selected: Bool
    }

    struct ListContext: Encodable {
        let signedIn: Bool
        let userName: String
        let csrf: String
        let supportTenant: String
        let tenants: [Choice]
        let statuses: [Choice]
        let severities: [Choice]
        let ages: [Choice]
        let cases: [CaseRow]
        let testCases: [CaseRow]
        let pending: Int
        let parked: Int
    }

    func list(_ request: Request) async throws -> Response {
        let support = try await supportTenant(request)
        guard let (caller, session) = try await engineer(request) else {
            return try await render(
                "console", request,
                ListContext(
                    signedIn: false, userName: "", csrf: "", supportTenant: support.displayName, tenants: [],
                    statuses: [], severities: [], ages: [], cases: [], testCases: [], pending: 0, parked: 0))
        }
        let query = request.query
        let tenantFilter = query[String.self, at: "tenant"].flatMap { $0.isEmpty ? nil : $0 }
        let statusFilter = query[String.self, at: "status"].flatMap { ServiceRequest.statuses.contains($0) ? $0 : nil }
        let severityFilter = query[String.self, at: "severity"].flatMap {
            ServiceRequest.severities.contains($0) ? $0 : nil
        }
        let ageFilter = query[Int.self, at: "days"].flatMap { [1, 7, 30].contains($0) ? $0 : nil }
        let tenants = try await request.application.tenants(request.db).list()
        let names = Dictionary(tenants.map { ($0.tenantId, $0.displayName) }, uniquingKeysWith: { first, _ in first })
        let now = request.application.connector.config.now()
        let all = try await store(request).list(
            tenant: tenantFilter.flatMap { name in tenants.first { $0.tenantId == name }?.tenantId },
            status: statusFilter,
            limit: 500
        ).filter { found in
            (severityFilter == nil || found.severity == severityFilter)
                && (ageFilter.map { found.createdAt >= now.addingTimeInterval(-Double($0) * 86_400) } ?? true)
        }
        let rows = all.map { found in
            CaseRow(
                number: found.number, tenant: names[found.tenantId] ?? found.tenantId, title: found.title,
                severity: found.severity, status: Self.statusLabel(found.status),
                contact: found.contact.name.map { "\($0) <\(found.contact.email)>" } ?? found.contact.email,
                updated: Self.time(found.updatedAt), age: Self.age(from: found.createdAt, to: now))
        }
        let outbox = OutboxStore(sql: try request.db.asSQL(), now: request.application.connector.config.now)
        let context = ListContext(
            signedIn: true, userName: caller.userName ?? "engineer", csrf: session.csrf,
            supportTenant: support.displayName,
            tenants: tenants.map {
                .init(value: $0.tenantId, label: $0.displayName, selected: $0.tenantId == tenantFilter)
            },
            statuses: ServiceRequest.statuses.map {
                .init(value: $0, label: Self.statusLabel($0), selected: $0 == statusFilter)
            },
            severities: ServiceRequest.severities.map { .init(value: $0, label: $0, selected: $0 == severityFilter) },
            ages: [(1, "Opened today"), (7, "Last 7 days"), (30, "Last 30 days")].map {
                .init(value: String($0.0), label: $0.1, selected: $0.0 == ageFilter)
            },
            cases: zip(all, rows).filter { !$0.0.testEnvironment }.map(\.1),
            testCases: zip(all, rows).filter { $0.0.testEnvironment }.map(\.1),
            pending: try await outbox.count(state: .pending), parked: try await outbox.count(state: .parked))
        return try await render("console", request, context)
    }

    struct CaseContext: Encodable {
        struct UpdateRow: Encodable {
            let sequence: Int
            let from: String
            let author: String
            let text: String
            let status: String?
            let time: String
            /// The delivery to the desk of an update from support: sent, waiting (with why) or parked.
            let delivery: String?
            let deliveryState: String?
        }

        let userName: String
        let csrf: String
        let number: String
        let tenant: String
        let title: String
        let description: String
        let severity: String
        let status: String
        let statuses: [Choice]
        let contactEmail: String
        let contactName: String
        let contactPhone: String
        let testEnvironment: Bool
        let ticketNumber: String
        let ticketUrl: String
        let repositoryId: String
        let opened: String
        let updates: [UpdateRow]
        let saved: Bool
        let closed: Bool
    }

    func showCase(_ request: Request) async throws -> Response {
        guard let (caller, session) = try await engineer(request) else {
            return request.redirect(to: "/console", redirectType: .normal)
        }
        let number = try ServiceRequestsController.number(request)
        let found = try await store(request).require(tenant: nil, number: number)
        let deliveries = try await OutboxStore(
            sql: try request.db.asSQL(), now: request.application.connector.config.now
        ).list(number: number, limit: 1000)
        let byEvent = Dictionary(deliveries.map { ($0.eventId, $0) }, uniquingKeysWith: { first, _ in first })
        let tenantName = try await request.application.tenants(request.db).find(found.tenantId)?.displayName
        let context = CaseContext(
            userName: caller.userName ?? "engineer", csrf: session.csrf, number: found.number,
            tenant: tenantName ?? found.tenantId, title: found.title, description: found.description,
            severity: found.severity, status: Self.statusLabel(found.status),
            statuses: ServiceRequest.statuses.map {
                .init(value: $0, label: Self.statusLabel($0), selected: $0 == found.status)
            },
            contactEmail: found.contact.email, contactName: found.contact.name ?? "",
            contactPhone: found.contact.phone ?? "", testEnvironment: found.testEnvironment,
            ticketNumber: found.ticketNumber, ticketUrl: found.ticketUrl ?? "", repositoryId: found.repositoryId,
            opened: Self.time(found.createdAt),
            updates: (found.updates ?? []).map { update in
                let delivery = byEvent[update.id]
                return .init(
                    sequence: update.sequence, from: update.from, author: update.author, text: update.text,
                    status: update.status.map(Self.statusLabel), time: Self.time(update.createdAt),
                    delivery: delivery.map(Self.describe), deliveryState: delivery?.state)
            },
            saved: request.query[String.self, at: "saved"] == "1", closed: found.status == "closed")
        return try await render("console_case", request, context)
    }

    func postUpdate(_ request: Request) async throws -> Response {
        let caller = try await requireEngineerForm(request)
        let number = try ServiceRequestsController.number(request)
        struct Form: Content {
            var text: String?
            var status: String?
        }
        let form = try request.content.decode(Form.self)
        let status = try ServiceRequestsController.status(form.status)
        let text = try ServiceRequestsController.text(form.text ?? "")
        let current = try await store(request).require(tenant: nil, number: number)
        try await store(request).addUpdate(
            tenant: nil, number: number, source: .support, author: caller.userName ?? "Support engineer", text: text,
            status: status == current.status ? nil : status)
        request.application.connector.deliveryKick.kick(request.application)
        return request.redirect(to: "/console/cases/\(number)?saved=1", redirectType: .normal)
    }

    // MARK: Deliveries

    struct DeliveriesContext: Encodable {
        struct Row: Encodable {
            let eventId: String
            let number: String
            let sequence: Int
            let repositoryId: String
            let state: String
            let attempts: Int
            let detail: String
            let canReplay: Bool
        }

        let userName: String
        let csrf: String
        let states: [Choice]
        let rows: [Row]
        let replayed: Bool
    }

    func deliveries(_ request: Request) async throws -> Response {
        guard let (caller, session) = try await engineer(request) else {
            return request.redirect(to: "/console", redirectType: .normal)
        }
        let wanted = request.query[String.self, at: "state"].flatMap(OutboxStore.State.init(rawValue:))
        let rows = try await OutboxStore(sql: try request.db.asSQL(), now: request.application.connector.config.now)
            .list(state: wanted, limit: 500)
        let context = DeliveriesContext(
            userName: caller.userName ?? "engineer", csrf: session.csrf,
            states: OutboxStore.State.allCases.map {
                .init(value: $0.rawValue, label: $0.rawValue.capitalized, selected: $0 == wanted)
            },
            rows: rows.map {
                .init(
                    eventId: $0.eventId, number: $0.serviceRequest, sequence: $0.sequence,
                    repositoryId: $0.repositoryId,
                    state: $0.state, attempts: $0.attempts, detail: Self.describe($0), canReplay: $0.state != "sent")
            },
            replayed: request.query[String.self, at: "replayed"] == "1")
        return try await render("console_deliveries", request, context)
    }

    func replay(_ request: Request) async throws -> Response {
        _ = try await requireEngineerForm(request)
        struct Form: Content { var eventId: String? }
        let event = (try request.content.decode(Form.self).eventId ?? "").lowercased()
        guard UUID(uuidString: event) != nil,
            try await OutboxStore(sql: try request.db.asSQL(), now: request.application.connector.config.now)
                .replay(event)
        else { throw ProfilePageError(.notFound, "There is no unsent delivery \(event.prefix(40)).") }
        request.application.connector.deliveryKick.kick(request.application)
        return request.redirect(to: "/console/deliveries?replayed=1", redirectType: .normal)
    }

    // MARK: Helpers

    private func store(_ request: Request) -> ServiceRequestStore {
        ServiceRequestStore(database: request.db, now: request.application.connector.config.now)
    }

    private func render(_ template: String, _ request: Request, _ context: some Encodable & Sendable) async throws
        -> Response
    {
        let response = try await request.view.render(template, context).encodeResponse(for: request)
        ProfilePageMiddleware.protect(response, authority: request.application.connector.config.authority)
        return response
    }

    static func describe(_ delivery: OutboxStore.Delivery) -> String {
        switch delivery.state {
        case "sent": "Delivered " + (delivery.sentAt.map(time) ?? "")
        case "parked": "Parked: " + (delivery.lastError ?? "no reason recorded")
        default:
            delivery.attempts == 0
                ? "Waiting to be sent"
                : "Attempt \(delivery.attempts) failed; next try \(delivery.nextAttemptAt.map(time) ?? "soon"): "
                    + (delivery.lastError ?? "")
        }
    }

    static func statusLabel(_ status: String) -> String {
        [
            "new": "New", "inProgress": "In progress", "waitingOnCustomer": "Waiting on customer",
            "resolved": "Resolved", "closed": "Closed",
        ][status] ?? status
    }

    // Made once: pages format a time per row.
    nonisolated(unsafe) private static let timeFormatter: ISO8601DateFormatter = {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withFullDate, .withTime, .withColonSeparatorInTime, .withSpaceBetweenDateAndTime]
        return formatter
    }()

    static func time(_ date: Date) -> String {
        timeFormatter.string(from: date) + " UTC"
    }

    static func age(from start: Date, to now: Date) -> String {
        let seconds = max(0, now.timeIntervalSince(start))
        if seconds < 3600 { return "\(Int(seconds / 60)) min" }
        if seconds < 86_400 { return "\(Int(seconds / 3600)) h" }
        return "\(Int(seconds / 86_400)) d"
    }
}

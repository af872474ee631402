import Foundation
import ServerSupport
import Vapor
import WireModels

/// `/api/v1/serviceRequests`: the desk opens a case for its tenant (the contact must be a Microsoft 365
/// administrator), reads it with its thread, replies for the customer and closes it; `/api/v1/administratorCheck`
/// tells the desk beforehand whether an e-mail may be a contact. The operator's `/admin/api/serviceRequests`
/// lists every tenant's cases and posts an engineer's update, which is delivered to the desk.
struct ServiceRequestsController: RouteCollection {
    let adminToken: String?

    func boot(routes: any RoutesBuilder) throws {
        let api = routes.grouped(BearerAuthMiddleware())
        let requests = api.grouped(ConnectorPath.serviceRequests.pathComponents)
        requests.post(use: create).maxBodySize("128kb")
        requests.get(use: list)
        requests.get(":number", use: show)
        requests.post(":number", "replies", use: reply).maxBodySize("128kb")
        requests.post(":number", "close", use: close)
        api.post(ConnectorPath.administratorCheck.pathComponents, use: checkAdministrator)

        let admin = routes.grouped(ConnectorPath.adminAPI.pathComponents).grouped("serviceRequests")
            .grouped(AdminTokenMiddleware(token: adminToken, variable: "M365_CONNECTOR_ADMIN_TOKEN"))
        admin.get(use: adminList)
        admin.get(":number", use: adminShow)
        admin.post(":number", "updates", use: engineerUpdate).maxBodySize("128kb")

        let deliveries = routes.grouped(ConnectorPath.adminAPI.pathComponents).grouped("deliveries")
            .grouped(AdminTokenMiddleware(token: adminToken, variable: "M365_CONNECTOR_ADMIN_TOKEN"))
        deliveries.get(use: listDeliveries)
        deliveries.post(":event", "replay", use: replay)
    }

    // MARK: Deliveries

    func listDeliveries(_ request: Request) async throws -> JSONBody<[OutboxStore.Delivery]> {
        let config = request.application.connector.config
        let sql = try request.db.asSQL()
        var state: OutboxStore.State?
        if let value = request.query[String.self, at: "state"], !value.isEmpty {
            guard let known = OutboxStore.State(rawValue: value) else {
                throw ConnectorError.invalid("state is pending, sent or parked.")
            }
            state = known
        }
        var tenant: String?
        if let value = request.query[String.self, at: "tenant"], !value.isEmpty {
            tenant = try await TenantStore(sql: sql, now: config.now).require(value).tenantId
        }
        let number = request.query[String.self, at: "serviceRequest"].flatMap {
            $0.isEmpty ? nil : String($0.prefix(20))
        }
        let limit = max(1, min(request.query[Int.self, at: "limit"] ?? 200, 1000))
        return JSONBody(
            try await OutboxStore(sql: sql, now: config.now).list(
                state: state, tenant: tenant, number: number, limit: limit))
    }

    func replay(_ request: Request) async throws -> JSONBody<[OutboxStore.Delivery]> {
        let event = try request.parameters.require("event")
        guard UUID(uuidString: event) != nil else {
            throw ConnectorError.notFound("There is no event \(event.prefix(40)).")
        }
        let config = request.application.connector.config
        let outbox = OutboxStore(sql: try request.db.asSQL(), now: config.now)
        guard try await outbox.replay(event.lowercased()) else {
            throw ConnectorError.notFound("There is no unsent event \(event).")
        }
        request.application.connector.deliveryKick.kick(request.application)
        request.logger.info("Delivery replayed", metadata: ["event": "\(event)"])
        return JSONBody(try await outbox.list(eventId: event.lowercased()))
    }

    private func store(_ request: Request) -> ServiceRequestStore {
        ServiceRequestStore(database: request.db, now: request.application.connector.config.now)
    }

    /// The desk's app for its tenant: the support integration role and the profile's App ID.
    private func desk(_ request: Request) async throws -> (caller: Caller, profile: OrganizationProfile) {
        let caller = try request.caller
        try caller.require(role: ConnectorResource.Role.supportIntegration)
        let profile = try await request.application.profiles(request.db).profile(tenant: caller.tenantId)
        try IntegrationGate.requireApp(caller, profile: profile)
        return (caller, profile)
    }

    func create(_ request: Request) async throws -> JSONBody<ServiceRequest> {
        let (caller, profile) = try await desk(request)
        let input = try Self.checked(try request.content.decode(ServiceRequestInput.self))
        _ = try IntegrationGate.requireRepository(input.repositoryId, profile: profile)
        let verdict = try await request.application.connector.directory.verdict(
            email: input.contact.email, tenant: caller.tenantId, request: request)
        guard verdict.isAdministrator else {
            throw ConnectorError(
                .forbidden, .contactNotAdministrator,
                "\(input.contact.email) is not a Microsoft 365 administrator of tenant \(caller.tenantId): a case's "
                    + "contact must hold an administrator role (Global Administrator, Service Support Administrator, "
                    + "…). Link an administrator account in the app.")
        }
        let (created, isNew) = try await store(request).create(
            tenant: caller.tenantId, appId: caller.appId, input)
        if isNew {
            request.logger.info(
                "Service request opened",
                metadata: [
                    "number": "\(created.number)", "tenant": "\(caller.tenantId)", "severity": "\(created.severity)",
                ])
        }
        return JSONBody(created, status: isNew ? .created : .ok)
    }

    func list(_ request: Request) async throws -> JSONBody<[ServiceRequest]> {
        let (caller, _) = try await desk(request)
        let status = try Self.status(request.query[String.self, at: "status"])
        return JSONBody(try await store(request).list(tenant: caller.tenantId, status: status))
    }

    func show(_ request: Request) async throws -> JSONBody<ServiceRequest> {
        let (caller, _) = try await desk(request)
        return JSONBody(try await store(request).require(tenant: caller.tenantId, number: try Self.number(request)))
    }

    func reply(_ request: Request) async throws -> JSONBody<ServiceRequest.Update> {
        let (caller, _) = try await desk(request)
        let input = try request.content.decode(ServiceRequestReply.self)
        let text = try Self.text(input.text)
        let (_, update) = try await store(request).addUpdate(
            tenant: caller.tenantId, number: try Self.number(request), source: .customer,
            author: Self.author(input.author, default: "Customer"), text: text)
        return JSONBody(update, status: .created)
    }

    func close(_ request: Request) async throws -> JSONBody<ServiceRequest> {
        let (caller, _) = try await desk(request)
        let number = try Self.number(request)
        let current = try await store(request).require(tenant: caller.tenantId, number: number)
        guard current.status != "closed" else { return JSONBody(current) }
        let (closed, _) = try await store(request).addUpdate(
            tenant: caller.tenantId, number: number, source: .customer, author: "Customer",
            text: "Closed by the customer.", status: "closed")
        return JSONBody(closed)
    }

    func checkAdministrator(_ request: Request) async throws -> JSONBody<AdministratorCheckResult> {
        let (caller, _) = try await desk(request)
        let email = try Self.email(try request.content.decode(AdministratorCheckRequest.self).email)
        let verdict = try await request.application.connector.directory.verdict(
            email: email, tenant: caller.tenantId, request: request)
        return JSONBody(
            AdministratorCheckResult(email: email, isAdministrator: verdict.isAdministrator, roles: verdict.roles))
    }

    // MARK: The operator (until the engineers' console)

    func adminList(_ request: Request) async throws -> JSONBody<[ServiceRequest]> {
        let tenant = try await request.query[String.self, at: "tenant"].asyncMap {
            try await TenantStore(sql: try request.db.asSQL(), now: request.application.connector.config.now)
                .require($0).tenantId
        }
        return JSONBody(
            try await store(request).list(
                tenant: tenant, status: try Self.status(request.query[String.self, at: "status"]), limit: 500))
    }

    func adminShow(_ request: Request) async throws -> JSONBody<ServiceRequest> {
        JSONBody(try await store(request).require(tenant: nil, number: try Self.number(request)))
    }

    struct EngineerUpdate: Content {
        let text: String
        let author: String?
        let status: String?
    }

    func engineerUpdate(_ request: Request) async throws -> JSONBody<ServiceRequest> {
        let input = try request.content.decode(EngineerUpdate.self)
        let status = try Self.status(input.status)
        let text = try Self.text(input.text)
        let (updated, _) = try await store(request).addUpdate(
            tenant: nil, number: try Self.number(request), source: .support,
            author: Self.author(input.author, default: "Microsoft 365 support"), text: text, status: status)
        request.application.connector.deliveryKick.kick(request.application)
        return JSONBody(updated, status: .created)
    }

    // MARK: Checks

    static func number(_ request: Request) throws -> String {
        let number = try request.parameters.require("number")
        guard number.count <= 20, number.hasPrefix("SR"), number.dropFirst(2).allSatisfy(\.isNumber) else {
            throw ConnectorError.notFound("There is no service request \(number.prefix(40)).")
        }
        return number
    }

    static func status(_ value: String?) throws -> String? {
        guard let value, !value.isEmpty else { return nil }
        guard ServiceRequest.statuses.contains(value) else {
            throw ConnectorError.invalid("status is one of \(ServiceRequest.statuses.joined(separator: ", ")).")
        }
        return value
    }

    static func text(_ value: String) throws -> String {
        let text = value.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !text.isEmpty, text.count <= ServiceRequestReply.maxText else {
            throw ConnectorError.invalid("text has 1 to \(ServiceRequestReply.maxText) characters.")
        }
        return text
    }

    static func author(_ value: String?, default fallback: String) -> String {
        let trimmed = value?.trimmingCharacters(in: .whitespacesAndNewlines) ?? ""
        return trimmed.isEmpty ? fallback : String(trimmed.prefix(200))
    }

    static func email(_ value: String) throws -> String {
        let email = value.trimmingCharacters(in: .whitespaces).lowercased()
        guard email.count <= 254, email.wholeMatch(of: /[^@\s\/?#]+@[^@\s\/?#]+\.[^@\s\/?#]+/) != nil else {
            throw ConnectorError.invalid("\(value.prefix(100)) is not an e-mail address.")
        }
        return email
    }

    static func checked(_ input: ServiceRequestInput) throws -> ServiceRequestInput {
        var input = input
        func trimmed(_ value: String) -> String { value.trimmingCharacters(in: .whitespacesAndNewlines) }
        input.repositoryId = trimmed(input.repositoryId)
        input.ticketNumber = trimmed(input.ticketNumber)
        input.title = trimmed(input.title)
        input.description = trimmed(input.description)
        input.idempotencyKey = trimmed(input.idempotencyKey)
        input.severity = trimmed(input.severity).uppercased()
        guard (1...100).contains(input.repositoryId.count) else {
            throw ConnectorError.invalid("repositoryId is 1 to 100 characters.")
        }
        guard (1...40).contains(input.ticketNumber.count) else {
            throw ConnectorError.invalid("ticketNumber is 1 to 40 characters.")
        }
        guard (1...ServiceRequestInput.maxTitle).contains(input.title.count) else {
            throw ConnectorError.invalid("title is 1 to \(ServiceRequestInput.maxTitle) characters.")
        }
        guard (1...ServiceRequestInput.maxDescription).contains(input.description.count) else {
            throw ConnectorError.invalid("description is 1 to \(ServiceRequestInput.maxDescription) characters.")
        }
        guard ServiceRequest.severities.contains(input.severity) else {
            throw ConnectorError.invalid("severity is A (critical), B (moderate) or C (minimal).")
        }
        guard (8...100).contains(input.idempotencyKey.count) else {
            throw ConnectorError.invalid("idempotencyKey is 8 to 100 characters, the same on every retry.")
        }
        if let url = input.ticketUrl.map(trimmed), !url.isEmpty {
            guard url.count <= 2000, let parsed = URL(string: url), ["https", "http"].contains(parsed.scheme ?? "")
            else { throw ConnectorError.invalid("ticketUrl is an http(s) address.") }
            input.ticketUrl = url
        } else {
            input.ticketUrl = nil
        }
        input.contact.email = try email(input.contact.email)
        input.contact.name = input.contact.name.map { String(trimmed($0).prefix(200)) }.flatMap {
            $0.isEmpty ? nil : $0
        }
        input.contact.phone = input.contact.phone.map { String(trimmed($0).prefix(50)) }.flatMap {
            $0.isEmpty ? nil : $0
        }
        return input
    }
}

extension Optional {
    /// `map` with an async transform.
    func asyncMap<T>(_ transform: (Wrapped) async throws -> T) async rethrows -> T? {
        guard let self else { return nil }
        return try await transform(self)
    }
}

import Fluent
import Foundation
import SQLKit
import ServerSupport
import ServiceDesk
import Vapor
import WireModels

/// `POST /api/x_mioms_m365_assis/v1/events`: where the Connector delivers case updates (DESIGN §3). Only the
/// integration user passes — in basic mode by HTTP Basic or a bearer token of `/oauth_token.do` issued to the
/// chosen inbound OAuth client, in aad mode by an Entra token verified through the chosen OIDC entity, whose
/// `appid` is the integration user's user ID — and, when the allow-list is on, only from its addresses. Each
/// event is applied once by its ID (a repeat answers 200 with `applied: false`), as a thread entry and a work
/// note on the incident, in one transaction. Every refusal is a ServiceNow envelope and a system log entry
/// saying why.
struct InboundAPI: RouteCollection {
    /// An event is a few kilobytes; a case update's text is at most 32,000 characters.
    static let maxBody = 256 * 1024

    struct Answer: Content {
        let applied: Bool
        let eventId: String
        let serviceRequest: String
        let incident: String
    }

    func boot(routes: any RoutesBuilder) throws {
        routes.on(.POST, "v1", "events", body: .collect(maxSize: ByteCount(value: Self.maxBody))) { request in
            try await self.receive(request)
        }
    }

    private func receive(_ request: Request) async throws -> Response {
        let services = try request.deskApp(M365SupportApp.scope)
        let settings = try await AppSettingsStore(sql: services.sql).load()
        let address = services.clientAddress ?? "unknown address"
        func refuse(_ error: DeskError, reason: String, category: String) async -> DeskError {
            await services.logRefusal("Inbound call from \(address) refused: \(reason)", category: category)
            return error
        }
        guard let mode = settings.mode, mode.allowsCases, settings.integrationUser != nil else {
            throw await refuse(
                .forbidden(
                    "Inbound calls are not set up",
                    detail: "The Microsoft 365 support app takes no inbound calls: its setup has no inbound OAuth "
                        + "provider and integration user (insights only)."),
                reason: "the app is not set up for inbound calls (mode \(settings.mode?.rawValue ?? "none"))",
                category: "not-set-up")
        }
        if settings.ipAllowListEnabled {
            let list = AddressAllowList.parse(settings.ipAllowList).list
            guard list.allows(services.clientAddress) else {
                throw await refuse(
                    .forbidden(
                        "Address not allowed",
                        detail: "\(address) is not on the Microsoft 365 support app's inbound IP allow-list."),
                    reason: "\(address) is not on the IP allow-list (\(list.text))", category: "address")
            }
        }
        let caller: DeskAPIUser
        do {
            caller = try await request.requireAPIUser()
        } catch let error as DeskError {
            let how =
                request.headers.bearerAuthorization != nil
                ? "the bearer token was not accepted"
                : request.headers.basicAuthorization != nil ? "wrong user name or password" : "no credentials"
            throw await refuse(error, reason: "\(how) (\(error.description))", category: "credentials")
        }
        try await check(caller, settings: settings, mode: mode, refuse: refuse)

        guard let body = request.body.data, body.readableBytes > 0 else {
            throw DeskError.badRequest("Exception while reading request", detail: "The event is missing.")
        }
        let event: ServiceRequestEvent
        do {
            try StrictJSON.check(body.readableBytesView)
            event = try ConnectorClient.decoder.decode(ServiceRequestEvent.self, from: Data(body.readableBytesView))
        } catch {
            throw await refuse(
                .badRequest("Exception while reading request", detail: "The payload is not a case event: \(error)"),
                reason: "the payload is not a case event", category: "payload")
        }
        try Self.validate(event)
        if let repository = settings.repositoryId, event.repositoryId != repository {
            throw await refuse(
                .badRequest(
                    "Unknown repository",
                    detail: "The event is for repository \(event.repositoryId); this desk is \(repository)."),
                reason: "event \(event.eventId) names repository \(event.repositoryId), not \(repository)",
                category: "repository")
        }
        let answer = try await apply(event, by: caller, services: services)
        let response = Response(status: .ok)
        try response.content.encode(["result": answer], as: .json)
        return response
    }

    /// Whether the authenticated caller is the integration user, authenticated as the mode says.
    private func check(
        _ caller: DeskAPIUser, settings: AppSettings, mode: SetupMode,
        refuse: (DeskError, String, String) async -> DeskError
    ) async throws {
        switch (mode, caller.via) {
        case (.basic, .basic):
            break
        case (.basic, .oauthToken(let entity)):
            if let chosen = settings.inboundEntity, entity != chosen {
                throw await refuse(
                    .forbidden(
                        "User Not Authorized",
                        detail: "The token was issued to another OAuth client than the app's inbound OAuth provider."),
                    "the token was issued to OAuth entity \(entity), not the app's inbound client \(chosen)", "entity")
            }
        case (.aad, .externalToken(let entity)):
            if let chosen = settings.inboundEntity, entity != chosen {
                throw await refuse(
                    .forbidden(
                        "User Not Authorized",
                        detail: "The token was verified by another OIDC provider than the app's inbound provider."),
                    "the token was verified by OIDC entity \(entity), not the app's provider \(chosen)", "entity")
            }
        default:
            throw await refuse(
                .forbidden(
                    "User Not Authorized",
                    detail: mode == .aad
                        ? "In aad mode the app takes Microsoft Entra tokens only."
                        : "In basic mode the app takes the integration user's credentials or its /oauth_token.do "
                            + "tokens only."),
                "\(caller.userName) authenticated by \(caller.via), which the \(mode.rawValue) mode does not take",
                "mode")
        }
        guard caller.sysId == settings.integrationUser else {
            throw await refuse(
                .forbidden(
                    "User Not Authorized", detail: "\(caller.userName) is not the app's integration user."),
                "\(caller.userName) is not the integration user", "user")
        }
        guard caller.webServiceAccessOnly else {
            throw await refuse(
                .forbidden(
                    "User Not Authorized",
                    detail: "The integration user \(caller.userName) is not web-service-only (Web service access only "
                        + "must be ticked)."),
                "the integration user \(caller.userName) is not web-service-only", "web-service-only")
        }
    }

    static func validate(_ event: ServiceRequestEvent) throws {
        func bad(_ detail: String) -> DeskError { .badRequest("Invalid case event", detail: detail) }
        guard (1...100).contains(event.eventId.count), event.update.id == event.eventId else {
            throw bad("eventId must be 1 to 100 characters and equal update.id.")
        }
        guard (1...40).contains(event.serviceRequest.number.count),
            (1...40).contains(event.serviceRequest.ticketNumber.count)
        else { throw bad("serviceRequest.number and ticketNumber are 1 to 40 characters.") }
        guard event.update.sequence >= 1 else { throw bad("update.sequence starts at 1.") }
        guard event.update.text.count <= ServiceRequestReply.maxText, event.update.author.count <= 200 else {
            throw bad("update.text is at most \(ServiceRequestReply.maxText) characters, author 200.")
        }
        guard ServiceRequest.statuses.contains(event.serviceRequest.status),
            event.update.status.map(ServiceRequest.statuses.contains) ?? true
        else { throw bad("Unknown case status.") }
    }

    /// Applies the event once: its thread entry, the case's status and a work note on the incident, all in one
    /// transaction; a second delivery of the same event changes nothing.
    private func apply(_ event: ServiceRequestEvent, by caller: DeskAPIUser, services: DeskAppServices) async throws
        -> Answer
    {
        let number = event.serviceRequest.number
        let known = try await CaseStore(sql: services.sql).find(number: number, withThread: false)
        let incidentId: String
        if let known {
            guard known.ticketNumber == event.serviceRequest.ticketNumber else {
                await services.log(
                    .warning,
                    "Inbound event \(event.eventId) refused: \(number) belongs to \(known.ticketNumber), the event "
                        + "names \(event.serviceRequest.ticketNumber)")
                throw DeskError.conflict(
                    "Ticket mismatch",
                    detail: "Case \(number) belongs to \(known.ticketNumber), not \(event.serviceRequest.ticketNumber)."
                )
            }
            incidentId = known.incident
        } else {
            let ticket = event.serviceRequest.ticketNumber
            guard
                let record = try await services.tables.read(
                    "incident", query: "number=\(ticket.replacingOccurrences(of: "^", with: ""))", limit: 1
                ).first, let sysId = record["sys_id"] ?? nil
            else {
                await services.log(.warning, "Inbound event \(event.eventId) refused: no incident \(ticket)")
                throw DeskError.badRequest(
                    "No such incident", detail: "This desk has no incident \(ticket) for case \(number).")
            }
            incidentId = sysId
        }
        let now = services.now
        let update = CaseUpdate(
            id: event.eventId, sequence: event.update.sequence, source: event.update.from,
            author: event.update.author, text: event.update.text, status: event.update.status,
            createdAt: event.update.createdAt)
        let note = Self.workNote(event)
        let summary = event.serviceRequest
        do {
            let applied = try await services.transaction(by: caller.userName) { writer in
                if known == nil {
                    let placeholder = ServiceRequest(
                        number: summary.number, tenantId: event.tenantId, repositoryId: event.repositoryId,
                        ticketNumber: summary.ticketNumber, ticketUrl: nil,
                        title: "Microsoft support case \(summary.number)", description: "",
                        severity: summary.severity, status: summary.status, contact: .init(email: ""),
                        testEnvironment: false, createdAt: event.occurredAt, updatedAt: event.occurredAt, updates: nil)
                    try await CaseStore.keep(placeholder, incident: incidentId, openedBy: "", at: now, sql: writer.sql)
                }
                guard try await CaseStore.insert(update, caseNumber: number, at: now, sql: writer.sql) else {
                    return false
                }
                try await CaseStore.advance(
                    number, sequence: update.sequence, status: summary.status, at: now, sql: writer.sql)
                guard try await writer.update("incident", sysId: incidentId, ["work_notes": note]) != nil else {
                    throw DeskError.badRequest("No such incident", detail: "The incident of \(number) is gone.")
                }
                return true
            }
            return Answer(applied: applied, eventId: event.eventId, serviceRequest: number, incident: incidentId)
        } catch let refusal as CrossScopeRefusal {
            let logId = await services.log(.error, "Unable to save ticket details of \(number): \(refusal)")
            throw DeskError.forbidden(
                "Unable to save ticket details. Please contact application support.",
                detail: "\(refusal) (system log entry \(logId))")
        } catch {
            // The same event delivered twice at once: the other delivery applied it.
            guard (error as? any DatabaseError)?.isConstraintFailure == true,
                try await services.sql.select().column("id").from(CaseStore.updates)
                    .where("id", .equal, event.eventId).first() != nil
            else { throw error }
            return Answer(applied: false, eventId: event.eventId, serviceRequest: number, incident: incidentId)
        }
    }

    /// What the incident's work notes say about an update from Microsoft.
    static func workNote(_ event: ServiceRequestEvent) -> String {
        let who = event.update.from == "support" ? "Microsoft support (\(event.update.author))" : event.update.author
        var lines = ["Microsoft support case \(event.serviceRequest.number) — update from \(who):"]
        if let status = event.update.status {
            lines.append("Status: \(CaseStore.statusText(status))")
        }
        if !event.update.text.isEmpty { lines.append(event.update.text) }
        return lines.joined(separator: "\n")
    }
}

import Foundation
import ServiceDesk
import Vapor
import WireModels

/// Contact Microsoft support (administrator role, basic and aad modes): opening a case from an incident, replying
/// to it, and the case views the tab shows. A case opened is kept with the incident (and noted in its work notes)
/// before the agent sees it; every failure is the guide's message with a system log entry.
struct CasePages: RouteCollection {
    let defaultConnectorURL: String

    static let openers: Set<String> = [M365SupportScope.administrator]

    func boot(routes: any RoutesBuilder) throws {
        routes.get(AppPath.openCase.pathComponents) { request in
            let user = try request.requireWebUser(Self.openers)
            let services = try request.deskApp(M365SupportApp.scope)
            let incidentId = try InsightsPages.incidentId(request.query[String.self, at: "sys_id"])
            let incident = try await InsightsPages.incident(incidentId, services: services)
            let settings = try await AppSettingsStore(sql: services.sql).load()
            let form = try await Self.contactForm(
                incidentId: incidentId, incident: incident, user: user, settings: settings, services: services)
            return try await self.page(request, incident: incident, incidentId: incidentId, form: form, failure: nil)
        }
        routes.form(AppPath.openCase.pathComponents, roles: Self.openers) { request, form in
            try await self.open(request, form)
        }
        routes.form(AppPath.replyCase.pathComponents, roles: Self.openers) { request, form in
            try await self.reply(request, form)
        }
    }

    // MARK: Views

    struct ContactForm: Encodable, Sendable {
        struct Severity: Encodable, Sendable {
            let value: String
            let label: String
            let selected: Bool
        }

        let incidentId: String
        let title: String
        let description: String
        let severities: [Severity]
        let contactEmail: String
        /// Where the prefilled contact came from.
        let contactSource: String
        let testEnvironment: Bool
        let idempotencyKey: String
        let csrfToken: String
        let linkAccountURL: String
    }

    struct CaseView: Encodable, Sendable {
        struct UpdateView: Encodable, Sendable {
            let from: String
            let author: String
            let text: String
            let status: String?
            let created: String
        }

        let number: String
        let title: String
        let status: String
        let severity: String
        let contactEmail: String
        let testEnvironment: Bool
        let openedBy: String
        let opened: String
        let closed: Bool
        let updates: [UpdateView]

        init(_ record: CaseRecord) {
            number = record.number
            title = record.title
            status = CaseStore.statusText(record.status)
            severity = CaseStore.severityText(record.severity)
            contactEmail = record.contactEmail
            testEnvironment = record.testEnvironment
            openedBy = record.openedBy
            opened = DeskTime.format(record.createdAt)
            closed = record.status == "closed"
            updates = record.updates.map {
                UpdateView(
                    from: $0.source == "support"
                        ? "Microsoft support" : $0.source == "customer" ? "This desk" : "Status",
                    author: $0.author, text: $0.text, status: $0.status.map(CaseStore.statusText),
                    created: DeskTime.format($0.createdAt))
            }
        }
    }

    /// The contact a case is opened with: the user's linked account, else their Microsoft 365 account when they
    /// signed in with it (SSO), else the app setting.
    static func defaultContact(user: WebUser, settings: AppSettings, services: DeskAppServices) async throws
        -> (email: String, source: String)
    {
        if let linked = try await LinkedAccounts(sql: services.sql).find(user: user.sysId) {
            return (linked.email, "your linked account")
        }
        if settings.ssoEnabled, let account = user.externalAccount {
            return (account, "your Microsoft 365 account (you signed in with Microsoft)")
        }
        if let email = settings.adminEmail { return (email, "the app's Microsoft 365 administrator e-mail") }
        return ("", "no default: link an account or enter an administrator's e-mail")
    }

    static func contactForm(
        incidentId: String, incident: InsightsPages.IncidentText, user: WebUser, settings: AppSettings,
        services: DeskAppServices, entered: [String: String] = [:]
    ) async throws -> ContactForm {
        let contact = try await defaultContact(user: user, settings: settings, services: services)
        let severity = entered["severity"] ?? CaseStore.severity(forPriority: incident.priority)
        return ContactForm(
            incidentId: incidentId,
            title: entered["title"] ?? String(incident.shortDescription.prefix(ServiceRequestInput.maxTitle)),
            description: entered["description"] ?? incident.description,
            severities: ServiceRequest.severities.map {
                .init(value: $0, label: CaseStore.severityText($0), selected: $0 == severity)
            },
            contactEmail: entered["contact_email"] ?? contact.email, contactSource: contact.source,
            testEnvironment: settings.testEnvironment,
            idempotencyKey: entered["idempotency_key"] ?? TableWrite.newSysId(), csrfToken: user.csrfToken,
            linkAccountURL: AppPath.account)
    }

    private func page(
        _ request: Request, incident: InsightsPages.IncidentText, incidentId: String, form: ContactForm?,
        failure: InsightsPages.Model.Failure?, status: HTTPResponseStatus = .ok
    ) async throws -> Response {
        struct Model: Encodable, Sendable {
            let number: String
            let formURL: String
            let contactForm: ContactForm?
            let failure: InsightsPages.Model.Failure?
        }
        return try await request.page(
            "x_mioms_m365_assis/case_page", title: "Contact Microsoft support — \(incident.number)",
            Model(
                number: incident.number, formURL: DeskPath.record(DeskPath.incident, sysId: incidentId),
                contactForm: form,
                failure: failure),
            status: status)
    }

    // MARK: Opening a case

    private func open(_ request: Request, _ form: WebForm) async throws -> Response {
        let services = try request.deskApp(M365SupportApp.scope)
        let incidentId = try InsightsPages.incidentId(form["sys_id"])
        let incident = try await InsightsPages.incident(incidentId, services: services)
        let settings = try await AppSettingsStore(sql: services.sql).load()
        let user = form.user
        func again(_ failure: InsightsPages.Model.Failure, _ status: HTTPResponseStatus) async throws -> Response {
            let contact = try await Self.contactForm(
                incidentId: incidentId, incident: incident, user: user, settings: settings, services: services,
                entered: form.fields)
            return try await page(
                request, incident: incident, incidentId: incidentId, form: contact, failure: failure, status: status)
        }
        func refused(_ message: String) async throws -> Response {
            try await again(.init(message: message, logId: "", logURL: nil), .badRequest)
        }
        guard settings.mode?.allowsCases == true else {
            return try await refused(InsightsPages.contactUnavailable(settings) ?? AppFailure.setupMessage)
        }
        let title = (form.text("title") ?? "").trimmingCharacters(in: .whitespacesAndNewlines)
        let description = (form.text("description") ?? "").trimmingCharacters(in: .whitespacesAndNewlines)
        let severity = form["severity"] ?? ""
        let email = (form.text("contact_email") ?? "").trimmingCharacters(in: .whitespaces)
        let key = form.text("idempotency_key") ?? TableWrite.newSysId()
        guard (1...ServiceRequestInput.maxTitle).contains(title.count) else {
            return try await refused("Enter a title of at most \(ServiceRequestInput.maxTitle) characters.")
        }
        guard (1...ServiceRequestInput.maxDescription).contains(description.count) else {
            return try await refused(
                "Describe the problem (at most \(ServiceRequestInput.maxDescription) characters).")
        }
        guard ServiceRequest.severities.contains(severity) else { return try await refused("Choose a severity.") }
        guard EmailAddress.isValid(email) else {
            return try await refused(
                "Enter the e-mail of a Microsoft 365 administrator to contact, or link an account in the app.")
        }
        guard key.count <= 64, key.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-") }) else {
            throw Abort(.badRequest, reason: "The form's key is not one the app made.")
        }
        let opened: ServiceRequest
        do {
            let client = try ConnectorClient(
                services: services, settings: settings, defaultConnectorURL: defaultConnectorURL)
            opened = try await client.createServiceRequest(
                ServiceRequestInput(
                    repositoryId: settings.repositoryId ?? "", ticketNumber: incident.number,
                    ticketUrl: services.publicURL + DeskPath.record(DeskPath.incident, sysId: incidentId),
                    title: title, description: description, severity: severity,
                    contact: .init(email: email, name: nil), testEnvironment: settings.testEnvironment,
                    idempotencyKey: "desk-" + key))
        } catch var failure as AppFailure {
            if failure.kind == .contactNotAdministrator {
                failure = AppFailure(
                    kind: failure.kind, message: AppFailure.notAdministratorMessage(email), detail: failure.detail,
                    outboundLogId: failure.outboundLogId)
            }
            let shown = await InsightsPages.report(
                failure, context: "Opening a Microsoft support case for \(incident.number)", services: services,
                user: user)
            return try await again(shown, failure.kind == .contactNotAdministrator ? .forbidden : .badGateway)
        }
        // A form sent twice answers with the case the first one opened: it is kept and noted once.
        if let kept = try await CaseStore(sql: services.sql).find(number: opened.number, withThread: false),
            kept.incident == incidentId,
            !kept.contactEmail.isEmpty
        {
            return request.seeOther(
                DeskPath.record(DeskPath.incident, sysId: incidentId) + "#x_mioms_m365_assis",
                notice: "Microsoft support case \(opened.number) is open.")
        }
        let now = services.now
        let note =
            "Microsoft support case \(opened.number) opened by \(user.name): severity "
            + "\(CaseStore.severityText(opened.severity)), contact \(opened.contact.email)"
            + (opened.testEnvironment ? " (test environment)" : "") + ".\n\(opened.title)"
        do {
            try await services.transaction(by: user.userName) { writer in
                try await CaseStore.keep(opened, incident: incidentId, openedBy: user.name, at: now, sql: writer.sql)
                try await writer.update("incident", sysId: incidentId, ["work_notes": note])
            }
        } catch {
            let logId = await services.log(
                .error,
                "Unable to save ticket details: case \(opened.number) was opened for \(incident.number) but could not "
                    + "be kept with the incident: \(error)")
            return try await again(
                .init(
                    message: AppFailure.saveFailedMessage + " (Microsoft support case \(opened.number).)",
                    logId: logId,
                    logURL: user.hasAny(of: [DeskRole.admin]) ? DeskPath.record(DeskPath.syslog, sysId: logId) : nil),
                .internalServerError)
        }
        await services.log(.information, "Microsoft support case \(opened.number) opened for \(incident.number)")
        return request.seeOther(
            DeskPath.record(DeskPath.incident, sysId: incidentId) + "#x_mioms_m365_assis",
            notice: "Microsoft support case \(opened.number) opened.")
    }

    // MARK: Replying

    private func reply(_ request: Request, _ form: WebForm) async throws -> Response {
        let services = try request.deskApp(M365SupportApp.scope)
        let incidentId = try InsightsPages.incidentId(form["sys_id"])
        let incident = try await InsightsPages.incident(incidentId, services: services)
        let user = form.user
        guard let number = form.text("number"), number.count <= 40,
            let record = try await CaseStore(sql: services.sql).find(number: number, withThread: false),
            record.incident == incidentId
        else { throw Abort(.notFound, reason: "This incident has no such Microsoft support case.") }
        let text = (form.text("text") ?? "").trimmingCharacters(in: .whitespacesAndNewlines)
        func failed(_ failure: InsightsPages.Model.Failure, _ status: HTTPResponseStatus) async throws -> Response {
            try await page(
                request, incident: incident, incidentId: incidentId, form: nil, failure: failure, status: status)
        }
        guard (1...ServiceRequestReply.maxText).contains(text.count) else {
            return try await failed(
                .init(
                    message: "Write a reply of at most \(ServiceRequestReply.maxText) characters.", logId: "",
                    logURL: nil), .badRequest)
        }
        let settings = try await AppSettingsStore(sql: services.sql).load()
        let update: ServiceRequest.Update
        do {
            let client = try ConnectorClient(
                services: services, settings: settings, defaultConnectorURL: defaultConnectorURL)
            update = try await client.reply(number, ServiceRequestReply(text: text, author: user.name))
        } catch let failure as AppFailure {
            let shown = await InsightsPages.report(
                failure, context: "Replying to Microsoft support case \(number)", services: services, user: user)
            return try await failed(shown, failure.kind == .caseClosed ? .conflict : .badGateway)
        }
        let now = services.now
        do {
            try await services.transaction(by: user.userName) { writer in
                try await CaseStore.insert(
                    CaseUpdate(
                        id: update.id, sequence: update.sequence, source: update.from, author: update.author,
                        text: update.text, status: update.status, createdAt: update.createdAt),
                    caseNumber: number, at: now, sql: writer.sql)
                try await writer.update(
                    "incident", sysId: incidentId,
                    ["work_notes": "Reply sent to Microsoft support case \(number) by \(user.name):\n\(text)"])
            }
        } catch {
            let logId = await services.log(
                .error, "Unable to save ticket details: the reply to \(number) was sent but not kept: \(error)")
            return try await failed(
                .init(message: AppFailure.saveFailedMessage, logId: logId, logURL: nil), .internalServerError)
        }
        return request.seeOther(
            DeskPath.record(DeskPath.incident, sysId: incidentId) + "#x_mioms_m365_assis",
            notice: "Reply sent to Microsoft support case \(number).")
    }
}

import Foundation
import ServiceDesk
import Vapor
import WireModels

/// The Microsoft 365 insights of one incident: recommended solutions and related service health issues from the
/// Connector, a search for another problem text, what users kept with the incident, and whether Microsoft
/// support can be contacted in this setup mode. Served whole (`insights.do?sys_id=…`) and as the tab's panel
/// (`&fragment=1`); every failure is a message in the panel with its system log entry.
struct InsightsPages: RouteCollection {
    let defaultConnectorURL: String

    /// How many solutions the panel shows.
    static let top = 5
    /// The Connector takes at most this much problem text; an incident's description may be longer.
    static let maxText = 20_000

    func boot(routes: any RoutesBuilder) throws {
        routes.get(AppPath.insights.pathComponents) { request in try await self.insights(request) }
        routes.form(AppPath.insight.pathComponents, roles: AppRoles.users) { request, form in
            try await self.keep(request, form)
        }
    }

    struct Model: Encodable, Sendable {
        struct Incident: Encodable, Sendable {
            let sysId: String
            let number: String
            let shortDescription: String
            let formURL: String
        }

        struct SolutionView: Encodable, Sendable {
            let id: String
            let title: String
            let product: String
            let url: String
            let snippet: SnippetParts
            let rawSnippet: String
            let helpful: Bool
        }

        struct IssueView: Encodable, Sendable {
            let id: String
            let title: String
            let service: String
            let status: String
            let lastUpdate: String
            let impact: String
            let historyURL: String
        }

        struct SavedView: Encodable, Sendable {
            let kind: String
            let itemId: String
            let title: String
            let detail: String
            let url: String
            let snippet: SnippetParts
            let opened: Bool
            let helpful: Bool
            let savedBy: String
            let updated: String
        }

        struct Failure: Encodable, Sendable {
            let message: String
            let logId: String
            let logURL: String?
        }

        let incident: Incident
        let query: String
        let searched: Bool
        let solutions: [SolutionView]
        let issues: [IssueView]
        let saved: [SavedView]
        let failure: Failure?
        /// Why Microsoft support cannot be contacted from here, when it cannot.
        let contactUnavailable: String?
        /// The incident's Microsoft support cases, newest first.
        let cases: [CasePages.CaseView]
        /// The form to open a case, for a user who may.
        let contactForm: CasePages.ContactForm?
        let canReply: Bool
        let csrfToken: String
        let pageURL: String
    }

    private func insights(_ request: Request) async throws -> Response {
        let user = try request.requireWebUser(AppRoles.users)
        let services = try request.deskApp(M365SupportApp.scope)
        let sysId = try Self.incidentId(request.query[String.self, at: "sys_id"])
        let incident = try await Self.incident(sysId, services: services)
        let query = String(
            (request.query[String.self, at: "q"] ?? "").trimmingCharacters(in: .whitespacesAndNewlines)
                .prefix(Self.maxText))
        let fragment = request.query[String.self, at: "fragment"] == "1"
        let settings = try await AppSettingsStore(sql: services.sql).load()
        let saved = try await SavedInsights(sql: services.sql).list(incident: sysId)

        var solutions: [Model.SolutionView] = []
        var issues: [Model.IssueView] = []
        var failure: Model.Failure?
        let text = query.isEmpty ? incident.text : query
        do {
            let client = try ConnectorClient(
                services: services, settings: settings, defaultConnectorURL: defaultConnectorURL)
            if text.isEmpty {
                solutions = []
            } else {
                let answer = try await client.recommendedSolutions(
                    RecommendedSolutionsRequest(text: String(text.prefix(Self.maxText)), product: nil, top: Self.top))
                let helpful = Set(saved.filter(\.helpful).map(\.itemId))
                solutions = answer.solutions.map {
                    Model.SolutionView(
                        id: $0.id, title: $0.title, product: $0.product, url: $0.url,
                        snippet: SnippetParts($0.snippet), rawSnippet: $0.snippet, helpful: helpful.contains($0.id))
                }
                issues = answer.serviceHealthIssues.map {
                    Model.IssueView(
                        id: $0.id, title: $0.title, service: $0.service ?? "", status: HealthText.status($0.status),
                        lastUpdate: $0.lastModifiedDateTime.map(HealthText.date) ?? "",
                        impact: $0.impactDescription ?? "", historyURL: HealthPages.issueURL($0.id))
                }
            }
        } catch let appFailure as AppFailure {
            failure = await Self.report(
                appFailure, context: "Microsoft 365 insights of \(incident.number)", services: services, user: user)
        }
        let cases = try await CaseStore(sql: services.sql).cases(incident: sysId)
        let mayOpen = user.hasAny(of: CasePages.openers)
        var contactUnavailable = Self.contactUnavailable(settings)
        var contactForm: CasePages.ContactForm?
        if contactUnavailable == nil {
            if mayOpen {
                contactForm = try await CasePages.contactForm(
                    incidentId: sysId, incident: incident, user: user, settings: settings, services: services)
            } else {
                contactUnavailable =
                    "Opening a Microsoft support case needs the Microsoft 365 support administrator role "
                    + "(x_mioms_m365_assis.administrator)."
            }
        }
        let model = Model(
            incident: .init(
                sysId: sysId, number: incident.number, shortDescription: incident.shortDescription,
                formURL: DeskPath.record(DeskPath.incident, sysId: sysId)),
            query: query, searched: !query.isEmpty, solutions: solutions, issues: issues,
            saved: saved.map {
                Model.SavedView(
                    kind: $0.kind.rawValue, itemId: $0.itemId, title: $0.title, detail: $0.detail, url: $0.url,
                    snippet: SnippetParts($0.snippet), opened: $0.opened, helpful: $0.helpful, savedBy: $0.savedBy,
                    updated: DeskTime.format($0.updatedAt))
            },
            failure: failure,
            contactUnavailable: contactUnavailable, cases: cases.map(CasePages.CaseView.init),
            contactForm: contactForm, canReply: mayOpen && settings.mode?.allowsCases == true,
            csrfToken: user.csrfToken, pageURL: AppPath.insights + "?sys_id=" + sysId)
        if fragment {
            // The same template as inside the page, whose context holds the model as `content`.
            struct Fragment: Encodable, Sendable { let content: Model }
            return try await request.view.render("x_mioms_m365_assis/insights", Fragment(content: model))
                .encodeResponse(for: request)
        }
        return try await request.page(
            "x_mioms_m365_assis/insights_page", title: "Microsoft 365 support — \(incident.number)", model)
    }

    /// "Contact Microsoft support" needs the inbound path (DESIGN §2).
    static func contactUnavailable(_ settings: AppSettings) -> String? {
        switch settings.mode {
        case .insightsOnly?:
            "Contacting Microsoft support is not available: this desk is set up for insights only, so Microsoft "
                + "cannot send case updates back to it. An administrator can add an inbound OAuth provider and an "
                + "integration user in Microsoft 365 support setup."
        case nil:
            "Contacting Microsoft support is available once the application setup is complete."
        case .basic?, .aad?:
            settings.isComplete
                ? nil : "Contacting Microsoft support is available once the application setup is complete."
        }
    }

    /// Writes the failure to the system log and returns what the panel shows.
    static func report(_ failure: AppFailure, context: String, services: DeskAppServices, user: WebUser) async
        -> Model.Failure
    {
        let logId = await services.log(
            failure.kind == .setupIncomplete ? .warning : .error,
            "\(context) failed (\(failure.kind.rawValue)): \(failure.detail)"
                + (failure.outboundLogId.map { "; outbound HTTP log entry \($0)" } ?? ""))
        return Model.Failure(
            message: failure.message, logId: logId,
            logURL: user.hasAny(of: [DeskRole.admin]) ? DeskPath.record(DeskPath.syslog, sysId: logId) : nil)
    }

    /// Keeps a solution or issue with the incident: opened (then on to it) or marked helpful or not.
    private func keep(_ request: Request, _ form: WebForm) async throws -> Response {
        let services = try request.deskApp(M365SupportApp.scope)
        let sysId = try Self.incidentId(form["sys_id"])
        _ = try await Self.incident(sysId, services: services)
        guard let kind = form["kind"].flatMap(SavedInsight.Kind.init(rawValue:)),
            let itemId = form.text("item_id"), itemId.count <= SavedInsight.limits.itemId,
            let title = form.text("title")
        else { throw Abort(.badRequest, reason: "The result to keep is incomplete.") }
        let url = form.text("url") ?? ""
        guard Self.isSafeLink(url) else { throw Abort(.badRequest, reason: "The result's link is not a web address.") }
        let action = form["action"] ?? ""
        guard ["open", "helpful", "not_helpful"].contains(action) else {
            throw Abort(.badRequest, reason: "Unknown action.")
        }
        try await SavedInsights(sql: services.sql).record(
            incident: sysId, kind: kind, itemId: itemId, title: title, detail: form.text("detail") ?? "", url: url,
            snippet: form.text("snippet") ?? "", opened: action == "open" ? true : nil,
            helpful: action == "helpful" ? true : action == "not_helpful" ? false : nil,
            by: form.user.userName, at: services.now)
        if action == "open", !url.isEmpty { return request.seeOther(url) }
        return request.seeOther(
            DeskPath.record(DeskPath.incident, sysId: sysId) + "#x_mioms_m365_assis",
            notice: action == "helpful" ? "Kept with the incident as helpful." : "Marked as not helpful.")
    }

    /// Links the panel may send a browser on to: web addresses, and the app's own pages.
    static func isSafeLink(_ url: String) -> Bool {
        if url.isEmpty || url.hasPrefix("/x_mioms_m365_assis_") && !url.hasPrefix("//") { return true }
        guard let parsed = URL(string: url), let scheme = parsed.scheme?.lowercased(), parsed.host != nil else {
            return false
        }
        return scheme == "https" || scheme == "http"
    }

    static func incidentId(_ value: String?) throws -> String {
        guard let value, value.count == 32, value.allSatisfy({ $0.isHexDigit && !$0.isUppercase }) else {
            throw Abort(.badRequest, reason: "That is not an incident's sys_id.")
        }
        return value
    }

    struct IncidentText: Sendable {
        let number: String
        let shortDescription: String
        let description: String
        let priority: String

        /// What the desk sends as the problem: short description and description joined with a space.
        var text: String {
            [shortDescription, description].filter { !$0.isEmpty }.joined(separator: " ")
        }
    }

    static func incident(_ sysId: String, services: DeskAppServices) async throws -> IncidentText {
        guard
            let record = try await services.tables.read("incident", query: "sys_id=\(sysId)", limit: 1).first
        else { throw Abort(.notFound, reason: "No incident has that sys_id.") }
        func field(_ name: String) -> String { (record[name] ?? nil) ?? "" }
        return IncidentText(
            number: field("number"), shortDescription: field("short_description"), description: field("description"),
            priority: field("priority"))
    }
}

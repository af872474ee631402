import Foundation
import ServiceDesk
import Vapor
import WireModels

/// Microsoft 365 service health as the app's menu shows it: the tenant's active and recent issues from the
/// Connector's Graph-compatible routes, filterable by service, and one issue with its whole post history.
struct HealthPages: RouteCollection {
    let defaultConnectorURL: String

    /// Resolved issues older than this are not "recent" any more.
    static let recentDays = 30

    static func issueURL(_ id: String) -> String {
        AppPath.healthIssue + "?id=" + (id.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? id)
    }

    func boot(routes: any RoutesBuilder) throws {
        routes.get(AppPath.health.pathComponents) { request in try await self.list(request) }
        routes.get(AppPath.healthIssue.pathComponents) { request in try await self.issue(request) }
    }

    struct IssueRow: Encodable, Sendable {
        let id: String
        let title: String
        let service: String
        let feature: String
        let classification: String
        let status: String
        let started: String
        let lastUpdate: String
        let url: String

        init(_ issue: ServiceHealthIssue) {
            id = issue.id
            title = issue.title
            service = issue.service ?? ""
            feature = issue.feature ?? ""
            classification = HealthText.classification(issue.classification)
            status = HealthText.status(issue.status)
            started = issue.startDateTime.map(HealthText.date) ?? ""
            lastUpdate = issue.lastModifiedDateTime.map(HealthText.date) ?? ""
            url = HealthPages.issueURL(issue.id)
        }
    }

    struct ListModel: Encodable, Sendable {
        let services: [ServiceChoice]
        let service: String
        let active: [IssueRow]
        let recent: [IssueRow]
        let recentDays: Int
        let failure: InsightsPages.Model.Failure?
    }

    struct ServiceChoice: Encodable, Sendable {
        let name: String
        let selected: Bool
    }

    private func list(_ request: Request) async throws -> Response {
        let user = try request.requireWebUser(AppRoles.users)
        let services = try request.deskApp(M365SupportApp.scope)
        let wanted = (request.query[String.self, at: "service"] ?? "").trimmingCharacters(in: .whitespaces)
        var issues: [ServiceHealthIssue] = []
        var failure: InsightsPages.Model.Failure?
        do {
            let settings = try await AppSettingsStore(sql: services.sql).load()
            issues = try await ConnectorClient(
                services: services, settings: settings, defaultConnectorURL: defaultConnectorURL
            ).healthIssues()
        } catch let appFailure as AppFailure {
            failure = await InsightsPages.report(
                appFailure, context: "Microsoft 365 service health", services: services, user: user)
        }
        let names = Set(issues.compactMap(\.service)).sorted()
        let shown = wanted.isEmpty ? issues : issues.filter { $0.service == wanted }
        let cutoff = services.now.addingTimeInterval(-Double(Self.recentDays) * 86_400)
        let model = ListModel(
            services: names.map { ServiceChoice(name: $0, selected: $0 == wanted) }, service: wanted,
            active: shown.filter { $0.isResolved != true }.map(IssueRow.init),
            recent: shown.filter { $0.isResolved == true && ($0.lastModifiedDateTime ?? .distantPast) >= cutoff }
                .map(IssueRow.init),
            recentDays: Self.recentDays, failure: failure)
        return try await request.page("x_mioms_m365_assis/health", title: "Microsoft 365 service health", model)
    }

    struct IssueModel: Encodable, Sendable {
        struct Post: Encodable, Sendable {
            let created: String
            let type: String
            let text: String
        }

        let issue: IssueRow?
        let impact: String
        let posts: [Post]
        let failure: InsightsPages.Model.Failure?
    }

    private func issue(_ request: Request) async throws -> Response {
        let user = try request.requireWebUser(AppRoles.users)
        let services = try request.deskApp(M365SupportApp.scope)
        guard let id = request.query[String.self, at: "id"], (1...100).contains(id.count),
            id.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-" || $0 == "_") })
        else { throw Abort(.badRequest, reason: "That is not a service health issue ID.") }
        var model = IssueModel(issue: nil, impact: "", posts: [], failure: nil)
        do {
            let settings = try await AppSettingsStore(sql: services.sql).load()
            let issue = try await ConnectorClient(
                services: services, settings: settings, defaultConnectorURL: defaultConnectorURL
            ).healthIssue(id: id)
            model = IssueModel(
                issue: IssueRow(issue),
                impact: issue.impactDescription ?? "",
                posts: (issue.posts ?? []).sorted { $0.createdDateTime > $1.createdDateTime }.map {
                    IssueModel.Post(
                        created: HealthText.date($0.createdDateTime), type: $0.postType ?? "",
                        text: HealthText.plain($0.description))
                },
                failure: nil)
        } catch let appFailure as AppFailure {
            model = IssueModel(
                issue: nil, impact: "", posts: [],
                failure: await InsightsPages.report(
                    appFailure, context: "Microsoft 365 service health issue \(id)", services: services, user: user))
        }
        return try await request.page(
            "x_mioms_m365_assis/health_issue", title: model.issue?.title ?? "Service health issue \(id)", model)
    }
}

/// Graph's service health values as people read them.
enum HealthText {
    static func date(_ date: Date) -> String { DeskTime.format(date) + " UTC" }

    /// `serviceDegradation` → "Service degradation"; an unknown value is shown the same way.
    static func status(_ value: String?) -> String { words(value) }

    static func classification(_ value: String?) -> String { words(value) }

    static func words(_ value: String?) -> String {
        guard let value, !value.isEmpty else { return "" }
        var result = ""
        for character in value {
            if character.isUppercase, !result.isEmpty { result.append(" ") }
            result.append(result.isEmpty ? Character(character.uppercased()) : Character(character.lowercased()))
        }
        return result
    }

    /// A post's body as text: Graph sends HTML, which the desk does not put into its pages as it is.
    static func plain(_ body: GraphItemBody?) -> String {
        guard let content = body?.content else { return "" }
        guard body?.contentType?.lowercased() == "html" else { return content }
        let breaks = content.replacing(/(?i)<br\s*\/?>|<\/p>|<\/li>|<\/div>/, with: "\n")
        let stripped = breaks.replacing(/<[^>]*>/, with: "")
        return stripped.replacingOccurrences(of: "&nbsp;", with: " ").replacingOccurrences(of: "&lt;", with: "<")
            .replacingOccurrences(of: "&gt;", with: ">").replacingOccurrences(of: "&quot;", with: "\"")
            .replacingOccurrences(of: "&#39;", with: "'").replacingOccurrences(of: "&amp;", with: "&")
            .trimmingCharacters(in: .whitespacesAndNewlines)
    }
}

import Fluent
import Foundation
import ServiceDesk
import Vapor
import WireModels

/// The Microsoft 365 support app (scope `x_mioms_m365_assis`), installed into the desk as ServiceNow installs a
/// scoped app: its roles, tables, menu "Microsoft 365 support", setup wizard, the incident form's tab and its
/// scripted REST API.
package struct M365SupportApp: DeskScopedApp {
    package static let scope = M365SupportScope.name

    /// Where the Connector is when the wizard has not been told otherwise: `M365_APP_CONNECTOR_URL`, or the
    /// Connector running in the same process.
    package let defaultConnectorURL: String

    package init(defaultConnectorURL: String) {
        self.defaultConnectorURL = defaultConnectorURL
    }

    package var scope: String { Self.scope }

    package var roles: [DeskAppRole] {
        [
            DeskAppRole(
                name: M365SupportScope.insightsUser,
                description: "Sees Microsoft 365 service health and recommended solutions"),
            DeskAppRole(
                name: M365SupportScope.administrator,
                description: "Also opens Microsoft 365 support cases and links an account",
                contains: [M365SupportScope.insightsUser]),
        ]
    }

    package var migrations: [any Migration] { [CreateAppTables(), CreateCaseTables()] }

    package var menu: [DeskMenuEntry] {
        [
            DeskMenuEntry(title: "Microsoft 365 service health", path: AppPath.health, roles: AppRoles.users),
            DeskMenuEntry(title: "Microsoft 365 support setup", path: AppPath.setup, roles: [DeskRole.admin]),
            DeskMenuEntry(title: "Link account", path: AppPath.account, roles: CasePages.openers),
        ]
    }

    package var views: Bundle? { Bundle.module }

    package var formTabs: [any IncidentFormTab] { [InsightsTab()] }

    package func signInOptions(_ request: Request) async throws -> [DeskSignInOption] {
        try await SSOPages.options(request)
    }

    package func routes(pages: any RoutesBuilder, api: any RoutesBuilder) throws {
        try pages.register(collection: SetupPages(defaultConnectorURL: defaultConnectorURL))
        try pages.register(collection: InsightsPages(defaultConnectorURL: defaultConnectorURL))
        try pages.register(collection: HealthPages(defaultConnectorURL: defaultConnectorURL))
        try pages.register(collection: CasePages(defaultConnectorURL: defaultConnectorURL))
        try pages.register(collection: AccountPages(defaultConnectorURL: defaultConnectorURL))
        try pages.register(collection: SSOPages())
        try api.register(collection: SetupAPI(defaultConnectorURL: defaultConnectorURL))
        try api.register(collection: InboundAPI())
    }
}

/// The app's pages, named as ServiceNow names a scoped app's pages.
enum AppPath {
    static let setup = "/x_mioms_m365_assis_setup.do"
    static let insights = "/x_mioms_m365_assis_insights.do"
    static let insight = "/x_mioms_m365_assis_insight.do"
    static let health = "/x_mioms_m365_assis_health.do"
    static let healthIssue = "/x_mioms_m365_assis_health_issue.do"
    static let openCase = "/x_mioms_m365_assis_case.do"
    static let replyCase = "/x_mioms_m365_assis_case_reply.do"
    static let account = "/x_mioms_m365_assis_account.do"
    static let sso = "/x_mioms_m365_assis_sso.do"
    static let ssoCallback = "/x_mioms_m365_assis_sso_callback.do"
}

enum AppRoles {
    /// Either of the app's roles opens the tab and the service health pages.
    static let users: Set<String> = [M365SupportScope.insightsUser, M365SupportScope.administrator]
}

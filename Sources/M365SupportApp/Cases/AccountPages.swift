import Foundation
import ServiceDesk
import Vapor
import WireModels

/// Microsoft 365 support → Link account: an administrator-role user sets the Microsoft 365 admin e-mail their
/// cases are opened with; the Connector's verdict (administrator of the tenant or not) is shown at once.
struct AccountPages: RouteCollection {
    let defaultConnectorURL: String

    struct Model: Encodable, Sendable {
        let email: String
        let linked: Bool
        let verdict: String?
        let isAdministrator: Bool?
        let roles: [String]
        let checkedAt: String?
        let failure: InsightsPages.Model.Failure?
        let fallback: String?
    }

    func boot(routes: any RoutesBuilder) throws {
        routes.get(AppPath.account.pathComponents) { request in
            let user = try request.requireWebUser(CasePages.openers)
            let services = try request.deskApp(M365SupportApp.scope)
            return try await self.page(request, user: user, services: services, failure: nil)
        }
        routes.form(AppPath.account.pathComponents, roles: CasePages.openers) { request, form in
            try await self.link(request, form)
        }
    }

    private func page(
        _ request: Request, user: WebUser, services: DeskAppServices, failure: InsightsPages.Model.Failure?,
        entered: String? = nil, status: HTTPResponseStatus = .ok
    ) async throws -> Response {
        let account = try await LinkedAccounts(sql: services.sql).find(user: user.sysId)
        let settings = try await AppSettingsStore(sql: services.sql).load()
        let verdict: String? = account.flatMap { account in
            account.isAdministrator.map {
                $0
                    ? "\(account.email) is a Microsoft 365 administrator (\(account.roles.joined(separator: ", "))): "
                        + "cases you open name it as contact."
                    : AppFailure.notAdministratorMessage(account.email)
            }
        }
        return try await request.page(
            "x_mioms_m365_assis/account", title: "Link account",
            Model(
                email: entered ?? account?.email ?? "", linked: account != nil, verdict: verdict,
                isAdministrator: account?.isAdministrator, roles: account?.roles ?? [],
                checkedAt: account?.checkedAt.map { DeskTime.format($0) + " UTC" }, failure: failure,
                fallback: settings.adminEmail),
            status: status)
    }

    private func link(_ request: Request, _ form: WebForm) async throws -> Response {
        let services = try request.deskApp(M365SupportApp.scope)
        let user = form.user
        let store = LinkedAccounts(sql: services.sql)
        if form["action"] == "unlink" {
            try await store.remove(user: user.sysId)
            return request.seeOther(AppPath.account, notice: "Account unlinked.")
        }
        let email = (form.text("email") ?? "").trimmingCharacters(in: .whitespaces).lowercased()
        guard EmailAddress.isValid(email) else {
            return try await page(
                request, user: user, services: services,
                failure: .init(message: "Enter the e-mail of your Microsoft 365 account.", logId: "", logURL: nil),
                entered: email, status: .badRequest)
        }
        let settings = try await AppSettingsStore(sql: services.sql).load()
        let result: AdministratorCheckResult
        do {
            let client = try ConnectorClient(
                services: services, settings: settings, defaultConnectorURL: defaultConnectorURL)
            result = try await client.administratorCheck(email)
        } catch let failure as AppFailure {
            let shown = await InsightsPages.report(
                failure, context: "Checking the Microsoft 365 account \(email)", services: services, user: user)
            return try await page(
                request, user: user, services: services, failure: shown, entered: email, status: .badGateway)
        }
        try await store.save(
            user: user.sysId,
            LinkedAccount(
                email: email, isAdministrator: result.isAdministrator, roles: result.roles, checkedAt: services.now),
            at: services.now)
        await services.log(
            .information,
            "\(user.userName) linked the Microsoft 365 account \(email) (administrator: \(result.isAdministrator))")
        return request.seeOther(AppPath.account, notice: "Account linked.")
    }
}

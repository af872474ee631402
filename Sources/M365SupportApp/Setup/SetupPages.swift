import Foundation
import ServiceDesk
import Vapor
import WireModels

/// Microsoft 365 support → Setup: the guide's steps, one page each, with Next, Back and Skip where the guide
/// allows it; the summary once done, from which the wizard can be reopened.
struct SetupPages: RouteCollection {
    let defaultConnectorURL: String

    func boot(routes: any RoutesBuilder) throws {
        routes.get(AppPath.setup.pathComponents) { request in
            let user = try request.requireWebUser([DeskRole.admin])
            let service = try self.service(request, user: user)
            let settings = try await service.load()
            let wanted = request.query[String.self, at: "step"].flatMap(SetupStep.init(rawValue:))
            return try await self.render(
                request, service: service, settings: settings,
                step: wanted ?? (settings.isComplete ? nil : SetupService.firstOpenStep(settings)), problem: nil)
        }
        routes.form(AppPath.setup.pathComponents, roles: [DeskRole.admin]) { request, form in
            try await self.submit(request, form)
        }
    }

    private func service(_ request: Request, user: WebUser) throws -> SetupService {
        SetupService(
            services: try request.deskApp(M365SupportApp.scope), defaultConnectorURL: defaultConnectorURL,
            userName: user.userName)
    }

    private func submit(_ request: Request, _ form: WebForm) async throws -> Response {
        let service = try self.service(request, user: form.user)
        guard let step = form["step"].flatMap(SetupStep.init(rawValue:)) else {
            throw Abort(.badRequest, reason: "Unknown setup step.")
        }
        let action = form["action"] ?? "next"
        if action == "back" { return request.seeOther(Self.url(step.previous ?? step)) }
        if action == "reset" {
            try await service.reset()
            return request.seeOther(Self.url(.consent), notice: "Setup reset: start again with step 1.")
        }
        do {
            switch (step, action) {
            case (.consent, "next"):
                guard form["accept"] == "true" else {
                    throw SetupProblem(message: "Tick the box to accept, or leave the setup.")
                }
                _ = try await service.acceptConsent()
            case (.outbound, "next"):
                _ = try await service.setOutbound(
                    profileId: form.text("profile"), connectorURL: form.text("connector_url"))
            case (.inbound, "skip"):
                _ = try await service.setInbound(AppSettings.Inbound.none)
            case (.inbound, "next"):
                if form["external_oidc"] == "true" {
                    _ = try await service.setInbound(.oidc, entity: form.text("oidc_entity"))
                } else {
                    _ = try await service.setInbound(.client, entity: form.text("inbound_client"))
                }
            case (.user, "next"):
                _ = try await service.setIntegrationUser(
                    user: form.text("integration_user"), restUserApp: form.text("rest_user_app"),
                    createUser: form["create_user"] == "true")
            case (.user, "skip"):
                guard try await service.load().mode?.allowsCases != true else {
                    throw SetupProblem(
                        message: "Cases need an integration user: choose one, or skip the inbound OAuth provider "
                            + "step for insights only.")
                }
            case (.repository, "next"):
                _ = try await service.setRepository(form.text("repository_id"))
            case (.repository, "skip"):
                _ = try await service.setRepository(nil)
            case (.settings, "next"):
                _ = try await service.setAppSettings(
                    ssoEnabled: form["sso_enabled"] == "true", adminEmail: form.text("admin_email"),
                    testEnvironment: form["test_environment"] == "true",
                    ipAllowListEnabled: form["ip_allow_list_enabled"] == "true",
                    ipAllowList: form.text("ip_allow_list") ?? "")
            case (.complete, "next"):
                _ = try await service.complete()
                return request.seeOther(AppPath.setup, notice: "Microsoft 365 support is set up.")
            default:
                throw SetupProblem(message: "This step cannot be skipped.")
            }
        } catch let problem as SetupProblem {
            return try await render(
                request, service: service, settings: try await service.load(), step: step, problem: problem,
                entered: form.fields, status: .badRequest)
        }
        return request.seeOther(Self.url(step.next ?? .complete))
    }

    static func url(_ step: SetupStep) -> String { AppPath.setup + "?step=" + step.rawValue }

    struct Model: Encodable, Sendable {
        struct StepLink: Encodable, Sendable {
            let number: Int
            let title: String
            let url: String
            let current: Bool
        }

        struct Provider: Encodable, Sendable {
            let profileId: String
            let label: String
            let selected: Bool
        }

        struct Problem: Encodable, Sendable {
            let message: String
            let logId: String?
            let logURL: String?
            let crossScopeRefusal: String?
        }

        let steps: [StepLink]
        let step: String?
        let stepTitle: String
        let stepNumber: Int
        let canGoBack: Bool
        let problem: Problem?
        let providers: [Provider]
        let connectorURL: String
        let createProviderURL: String
        let privilegesURL: String
        let mode: String?
        let modeTitle: String?
        let complete: Bool
        let completedAt: String?
        let tenantId: String?
        let consentAt: String?
        let repositoryId: String
        let ssoEnabled: Bool
        let adminEmail: String
        let testEnvironment: Bool
        let values: [AdminCenterValues.Value]
        let providerName: String?
        let inboundClients: [Provider]
        let oidcEntities: [Provider]
        let externalOIDC: Bool
        let createClientURL: String
        let createOIDCURL: String
        let users: [Provider]
        let restUserApp: String
        let ipAllowListEnabled: Bool
        let ipAllowList: String
        /// The summary's inbound OAuth provider and integration user, by name.
        let inboundName: String?
        let integrationUserName: String?
    }

    private func render(
        _ request: Request, service: SetupService, settings: AppSettings, step: SetupStep?, problem: SetupProblem?,
        entered: [String: String] = [:], status: HTTPResponseStatus = .ok
    ) async throws -> Response {
        var problem = problem
        var providers: [DeskAppServices.ProviderProfile] = []
        if step == .outbound || step == nil || step == .complete {
            do {
                providers = try await service.providers()
            } catch let refusal as SetupProblem {
                problem = problem ?? refusal
            }
        }
        var clients: [DeskAppServices.RegistryEntity] = []
        var oidc: [DeskAppServices.RegistryEntity] = []
        var users: [DeskAppUser] = []
        if step == .inbound || step == nil {
            let services = service.services
            do {
                clients = try await services.inboundClients()
                oidc = try await services.oidcEntities()
            } catch let refusal as CrossScopeRefusal {
                problem =
                    problem
                    ?? SetupProblem(
                        message: "The app may not read the Application Registry.",
                        crossScopeRefusal: refusal.description)
            }
        }
        if step == .user, settings.mode == .basic {
            do {
                users = try await service.services.webServiceUsers()
            } catch let refusal as CrossScopeRefusal {
                problem =
                    problem
                    ?? SetupProblem(
                        message: "The app may not read the desk's users.", crossScopeRefusal: refusal.description)
            }
        }
        var integrationUserName: String?
        if step == nil, let user = settings.integrationUser {
            integrationUserName = try? await service.services.user(sysIdOrUserName: user)?.userName
        }
        let selectedProfile = entered["profile"] ?? settings.outboundProfile
        let selectedEntity = entered["inbound_client"] ?? entered["oidc_entity"] ?? settings.inboundEntity
        let selectedUser = entered["integration_user"] ?? settings.integrationUser
        func entityChoice(_ entity: DeskAppServices.RegistryEntity) -> Model.Provider {
            .init(
                profileId: entity.sysId,
                label: "\(entity.name) — client ID \(entity.clientId)" + (entity.active ? "" : " (inactive)"),
                selected: entity.sysId == selectedEntity)
        }
        let values = try await service.adminCenterValues(settings)
        let model = Model(
            steps: SetupStep.allCases.map {
                .init(number: $0.number, title: $0.title, url: Self.url($0), current: $0 == step)
            },
            step: step?.rawValue, stepTitle: step?.title ?? "Summary", stepNumber: step?.number ?? 0,
            canGoBack: step?.previous != nil,
            problem: problem.map {
                .init(
                    message: $0.message, logId: $0.logId,
                    logURL: $0.logId.map { DeskPath.record(DeskPath.syslog, sysId: $0) },
                    crossScopeRefusal: $0.crossScopeRefusal)
            },
            providers: providers.map {
                .init(
                    profileId: $0.profileId,
                    label: "\($0.entityName) — \($0.profileName)" + ($0.active ? "" : " (inactive)"),
                    selected: $0.profileId == selectedProfile)
            },
            connectorURL: entered["connector_url"] ?? settings.connectorURL ?? defaultConnectorURL,
            createProviderURL: DeskPath.new(DeskPath.oauthEntity) + "&sysparm_type=oauth_provider",
            privilegesURL: DeskPath.scopePrivilegeList, mode: settings.mode?.rawValue,
            modeTitle: settings.mode?.title, complete: settings.isComplete,
            completedAt: settings.completedAt.map { DeskTime.format($0) + " UTC" }, tenantId: settings.tenantId,
            consentAt: settings.consentAt.map { DeskTime.format($0) + " UTC" },
            repositoryId: entered["repository_id"] ?? settings.repositoryId ?? "",
            ssoEnabled: entered.isEmpty ? settings.ssoEnabled : entered["sso_enabled"] == "true",
            adminEmail: entered["admin_email"] ?? settings.adminEmail ?? "",
            testEnvironment: entered.isEmpty ? settings.testEnvironment : entered["test_environment"] == "true",
            values: values.values,
            providerName: providers.first { $0.profileId == settings.outboundProfile }?.entityName,
            inboundClients: clients.map(entityChoice), oidcEntities: oidc.map(entityChoice),
            externalOIDC: entered.isEmpty ? settings.inbound == .oidc : entered["external_oidc"] == "true",
            createClientURL: DeskPath.new(DeskPath.oauthEntity) + "&sysparm_type=client",
            createOIDCURL: DeskPath.new(DeskPath.oauthEntity) + "&sysparm_type=oidc_provider",
            users: users.map {
                .init(profileId: $0.sysId, label: "\($0.name) (\($0.userName))", selected: $0.sysId == selectedUser)
            },
            restUserApp: entered["rest_user_app"] ?? settings.restUserApp ?? "",
            ipAllowListEnabled: entered.isEmpty
                ? settings.ipAllowListEnabled : entered["ip_allow_list_enabled"] == "true",
            ipAllowList: entered["ip_allow_list"] ?? settings.ipAllowList,
            inboundName: (clients + oidc).first { $0.sysId == settings.inboundEntity }?.name,
            integrationUserName: step == nil ? integrationUserName : nil)
        return try await request.page(
            "x_mioms_m365_assis/setup", title: "Microsoft 365 support setup — \(step?.title ?? "Summary")", model,
            status: status)
    }
}

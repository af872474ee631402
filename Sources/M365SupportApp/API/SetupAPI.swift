import Foundation
import ServiceDesk
import Vapor
import WireModels

/// `/api/x_mioms_m365_assis/v1/setup`: the wizard's steps as a scripted REST API for desk admins, with the same
/// checks as its pages — what `m365-support demo configure` drives. Answers in ServiceNow's envelope.
struct SetupAPI: RouteCollection {
    let defaultConnectorURL: String

    struct State: Content {
        let mode: String?
        let complete: Bool
        let completedAt: Date?
        let tenantId: String?
        let capabilities: [String]
        let consentAccepted: Bool
        let outboundProfile: String?
        let connectorUrl: String
        let inbound: String?
        /// The inbound OAuth client (basic) or OIDC provider entity (aad), by `sys_id`.
        let inboundEntity: String?
        /// The integration user's `sys_id`.
        let integrationUser: String?
        let restUserApp: String?
        let repositoryId: String?
        let ssoEnabled: Bool
        let adminEmail: String?
        let testEnvironment: Bool
        let ipAllowListEnabled: Bool
        let ipAllowList: String
        /// What the Microsoft 365 administrator enters in the admin center: label → value.
        let adminCenter: [String: String]
        /// The first step still to do, if any.
        let nextStep: String?
    }

    struct Outbound: Content {
        let profile: String?
        let connectorUrl: String?
    }

    struct Inbound: Content {
        /// `none` (insights only), `client` (basic) or `oidc` (aad).
        let choice: String?
        /// The entity's `sys_id`, name or client ID.
        let entity: String?
    }

    struct User: Content {
        /// basic: the integration user's `sys_id` or user ID.
        let user: String?
        /// aad: the REST user app's client ID.
        let restUserApp: String?
        /// aad: create the integration user when no desk user has that user ID.
        let createUser: Bool?
    }

    struct Repository: Content {
        let repositoryId: String?
    }

    struct Settings: Content {
        let ssoEnabled: Bool?
        let adminEmail: String?
        let testEnvironment: Bool?
        let ipAllowListEnabled: Bool?
        let ipAllowList: String?
    }

    func boot(routes: any RoutesBuilder) throws {
        let setup = routes.grouped("v1", "setup")
        setup.get { request in try await self.answer(request) { service in try await service.load() } }
        setup.delete { request in
            try await self.answer(request) { service in
                try await service.reset()
                return try await service.load()
            }
        }
        setup.post("consent") { request in
            try await self.answer(request) { service in try await service.acceptConsent() }
        }
        setup.put("outbound") { request in
            let body = try request.content.decode(Outbound.self)
            return try await self.answer(request) { service in
                try await service.setOutbound(profileId: body.profile, connectorURL: body.connectorUrl)
            }
        }
        setup.put("inbound") { request in
            let body = try request.content.decode(Inbound.self)
            guard let choice = AppSettings.Inbound(rawValue: body.choice ?? "none") else {
                throw DeskError.badRequest("Unknown inbound choice", detail: "Use none, client or oidc.")
            }
            return try await self.answer(request) { service in
                try await service.setInbound(choice, entity: body.entity)
            }
        }
        setup.put("user") { request in
            let body = try request.content.decode(User.self)
            return try await self.answer(request) { service in
                try await service.setIntegrationUser(
                    user: body.user, restUserApp: body.restUserApp, createUser: body.createUser ?? false)
            }
        }
        setup.put("repository") { request in
            let body = try request.content.decode(Repository.self)
            return try await self.answer(request) { service in try await service.setRepository(body.repositoryId) }
        }
        setup.put("settings") { request in
            let body = try request.content.decode(Settings.self)
            return try await self.answer(request) { service in
                let current = try await service.load()
                return try await service.setAppSettings(
                    ssoEnabled: body.ssoEnabled ?? current.ssoEnabled,
                    adminEmail: body.adminEmail ?? current.adminEmail,
                    testEnvironment: body.testEnvironment ?? current.testEnvironment,
                    ipAllowListEnabled: body.ipAllowListEnabled, ipAllowList: body.ipAllowList)
            }
        }
        setup.post("complete") { request in
            try await self.answer(request) { service in try await service.complete() }
        }
    }

    /// Runs `change` as the calling admin and answers with the resulting state; a refused step is a 400 whose
    /// message says what is wrong and whose detail names the system log entry.
    private func answer(_ request: Request, _ change: (SetupService) async throws -> AppSettings) async throws
        -> Response
    {
        let user = try await request.requireAPIUser([DeskRole.admin])
        let service = SetupService(
            services: try request.deskApp(M365SupportApp.scope), defaultConnectorURL: defaultConnectorURL,
            userName: user.userName)
        let settings: AppSettings
        do {
            settings = try await change(service)
        } catch let problem as SetupProblem {
            throw DeskError.badRequest(
                problem.message,
                detail: problem.crossScopeRefusal ?? problem.logId.map { "System log entry \($0)" })
        }
        let values = try await service.adminCenterValues(settings)
        let state = State(
            mode: settings.mode?.rawValue, complete: settings.isComplete, completedAt: settings.completedAt,
            tenantId: settings.tenantId, capabilities: settings.capabilities,
            consentAccepted: settings.consentAt != nil, outboundProfile: settings.outboundProfile,
            connectorUrl: settings.connectorURL ?? defaultConnectorURL, inbound: settings.inbound?.rawValue,
            inboundEntity: settings.inboundEntity, integrationUser: settings.integrationUser,
            restUserApp: settings.restUserApp, repositoryId: settings.repositoryId, ssoEnabled: settings.ssoEnabled,
            adminEmail: settings.adminEmail,
            testEnvironment: settings.testEnvironment, ipAllowListEnabled: settings.ipAllowListEnabled,
            ipAllowList: settings.ipAllowList,
            adminCenter: Dictionary(
                values.values.map { ($0.label, $0.value) }, uniquingKeysWith: { first, _ in first }),
            nextStep: settings.isComplete ? nil : SetupService.firstOpenStep(settings)?.rawValue)
        let response = Response(status: .ok)
        try response.content.encode(["result": state], as: .json)
        return response
    }
}

import Foundation
import ServiceDesk
import Vapor
import WireModels

/// The wizard's steps, in the guide's order (DESIGN §4).
enum SetupStep: String, CaseIterable, Sendable, Encodable {
    case consent, outbound, inbound, user, repository, settings, complete

    var title: String {
        switch self {
        case .consent: "Consent"
        case .outbound: "Outbound OAuth provider"
        case .inbound: "Inbound OAuth provider"
        case .user: "Integration user"
        case .repository: "Repository ID"
        case .settings: "App settings"
        case .complete: "Complete integration"
        }
    }

    var number: Int { (Self.allCases.firstIndex(of: self) ?? 0) + 1 }
    var next: SetupStep? { Self.allCases.first { $0.number == number + 1 } }
    var previous: SetupStep? { Self.allCases.first { $0.number == number - 1 } }
}

/// Why a step's answer was not taken, in words an admin can act on.
struct SetupProblem: Error, Sendable {
    let message: String
    /// The system log entry with the details, when the problem came from another service.
    var logId: String? = nil
    /// The cross-scope access policy refused reading the Application Registry: the page explains how to grant it.
    var crossScopeRefusal: String? = nil
}

/// The values the Microsoft 365 administrator copies into the admin center (Settings → Org settings →
/// Organization profiles → Support integration) for the chosen mode.
struct AdminCenterValues: Encodable, Sendable, Equatable {
    struct Value: Encodable, Sendable, Equatable {
        let id: String
        let label: String
        let value: String
        let help: String
    }

    let values: [Value]
}

/// The wizard's rules, one per step, shared by its pages and its scripted REST API: each checks what it is given,
/// says exactly what is wrong, and records the answer. A change to what the Connector checks (outbound
/// provider, inbound choice, repository) reopens the final step.
struct SetupService: Sendable {
    let services: DeskAppServices
    let defaultConnectorURL: String
    let userName: String

    var store: AppSettingsStore { AppSettingsStore(sql: services.sql) }

    func load() async throws -> AppSettings { try await store.load() }

    private func save(_ settings: AppSettings) async throws {
        try await store.save(settings, by: userName, at: services.now)
    }

    /// The providers step 2 offers; throws a ``SetupProblem`` explaining the cross-scope policy when refused.
    func providers() async throws -> [DeskAppServices.ProviderProfile] {
        do {
            return try await services.providerProfiles()
        } catch let refusal as CrossScopeRefusal {
            let logId = await services.log(.warning, "Setup cannot read the Application Registry: \(refusal)")
            throw SetupProblem(
                message: "The app may not read the Application Registry.", logId: logId,
                crossScopeRefusal: refusal.description)
        }
    }

    func acceptConsent() async throws -> AppSettings {
        var settings = try await load()
        if settings.consentAt == nil {
            settings.consentAt = services.now
            settings.consentBy = userName
            try await save(settings)
            await services.log(.information, "Microsoft 365 support setup: consent accepted by \(userName)")
        }
        return settings
    }

    /// Step 2: the provider must really give a token, and the Connector must answer.
    func setOutbound(profileId: String?, connectorURL: String?) async throws -> AppSettings {
        var settings = try await requireConsent()
        guard let profileId, !profileId.isEmpty else {
            throw SetupProblem(message: "Choose the OAuth profile of the outbound OAuth provider.")
        }
        guard let profile = try await providers().first(where: { $0.profileId == profileId }) else {
            throw SetupProblem(message: "There is no third-party OAuth provider profile \(profileId).")
        }
        guard profile.active else {
            throw SetupProblem(message: "The OAuth provider \(profile.entityName) is not active.")
        }
        let url = ConnectorClient.trimmed(
            (connectorURL?.trimmingCharacters(in: .whitespaces)).flatMap { $0.isEmpty ? nil : $0 }
                ?? defaultConnectorURL)
        guard let parsed = URL(string: url), ["https", "http"].contains(parsed.scheme?.lowercased() ?? ""),
            parsed.host?.isEmpty == false, parsed.query == nil, url.count <= 500
        else {
            throw SetupProblem(
                message: "The connector URL must be an https:// address such as https://connector.example.com.")
        }
        do {
            _ = try await services.outboundToken(profileId: profileId, forceRefresh: true)
        } catch let failure as OutboundOAuth.Failure {
            let logId = await services.log(.error, "Setup: the outbound provider gave no token: \(failure.message)")
            throw SetupProblem(
                message: "\(profile.entityName) could not get a token: \(failure.message). Check its client ID, "
                    + "client secret and token URL.",
                logId: logId)
        }
        let client = ConnectorClient(services: services, profileId: profileId, baseURL: url)
        do {
            try await client.ping()
        } catch let failure as AppFailure {
            let logId = await services.log(.error, "Setup: \(failure.detail)")
            throw SetupProblem(message: failure.message, logId: logId)
        }
        if settings.outboundProfile != profileId || settings.connectorURL != url { settings.completedAt = nil }
        settings.outboundProfile = profileId
        settings.connectorURL = url
        try await save(settings)
        await services.log(
            .information, "Microsoft 365 support setup: outbound provider \(profile.entityName), connector \(url)")
        return settings
    }

    /// Step 3. Skipping it is the insights-only mode; the inbound OAuth client (basic) and OIDC entity (aad)
    /// choices come with cases.
    func setInbound(_ choice: AppSettings.Inbound?) async throws -> AppSettings {
        var settings = try await requireOutbound()
        switch choice {
        case .none?, nil:
            if settings.inbound != AppSettings.Inbound.none { settings.completedAt = nil }
            settings.inbound = AppSettings.Inbound.none
            settings.inboundEntity = nil
            settings.integrationUser = nil
            settings.restUserApp = nil
        case .client?, .oidc?:
            throw SetupProblem(
                message: "Inbound connections (basic and aad modes, for Microsoft support cases) are not available "
                    + "in this version of the app. Skip this step to set up insights only.")
        }
        try await save(settings)
        return settings
    }

    /// Step 4: in insights-only there is no integration user.
    func setIntegrationUser() async throws -> AppSettings {
        let settings = try await requireInbound()
        guard settings.mode == .insightsOnly else {
            throw SetupProblem(message: "Integration users come with inbound connections.")
        }
        return settings
    }

    /// Step 5: letters, digits, `.`, `_`, `-`; optional in insights-only (no repository receives cases).
    func setRepository(_ id: String?) async throws -> AppSettings {
        var settings = try await requireInbound()
        let value = id?.trimmingCharacters(in: .whitespaces) ?? ""
        if value.isEmpty {
            guard settings.mode == .insightsOnly else {
                throw SetupProblem(message: "Enter the repository ID the Microsoft 365 administrator will register.")
            }
        } else {
            guard value.count <= 100,
                value.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || "._-".contains($0)) })
            else {
                throw SetupProblem(
                    message: "A repository ID has 1 to 100 letters, digits, dots, underscores or hyphens.")
            }
        }
        let newValue = value.isEmpty ? nil : value
        if settings.repositoryId != newValue { settings.completedAt = nil }
        settings.repositoryId = newValue
        try await save(settings)
        return settings
    }

    /// Step 6.
    func setAppSettings(ssoEnabled: Bool, adminEmail: String?, testEnvironment: Bool) async throws -> AppSettings {
        var settings = try await requireInbound()
        let email = adminEmail?.trimmingCharacters(in: .whitespaces) ?? ""
        if !email.isEmpty {
            guard email.count <= 254, email.wholeMatch(of: /[^@\s]+@[^@\s]+\.[^@\s]+/) != nil else {
                throw SetupProblem(message: "\(email) is not an e-mail address.")
            }
        }
        settings.ssoEnabled = ssoEnabled
        settings.adminEmail = email.isEmpty ? nil : email
        settings.testEnvironment = testEnvironment
        try await save(settings)
        return settings
    }

    /// What the Microsoft 365 administrator enters in the admin center for the chosen mode.
    func adminCenterValues(_ settings: AppSettings) async throws -> AdminCenterValues {
        var values: [AdminCenterValues.Value] = []
        if let profile = settings.outboundProfile,
            let provider = try? await providers().first(where: { $0.profileId == profile })
        {
            values.append(
                .init(
                    id: "app_id", label: "App ID", value: provider.clientId,
                    help: "The client ID of the outbound app registration (\(provider.entityName))."))
        }
        if let repository = settings.repositoryId {
            values.append(
                .init(
                    id: "repository_id", label: "Repository ID", value: repository,
                    help: "Names this desk in the organization profile."))
        }
        if settings.mode?.allowsCases == true {
            values.append(
                .init(
                    id: "endpoint", label: "Endpoint", value: services.publicURL,
                    help: "Where Microsoft delivers case updates."))
        }
        return AdminCenterValues(values: values)
    }

    /// Step 7: the Connector must confirm that the organization profile holds this App ID (and repository).
    func complete() async throws -> AppSettings {
        var settings = try await requireInbound()
        guard let mode = settings.mode, let profile = settings.outboundProfile else {
            throw SetupProblem(message: "Complete the earlier steps first.")
        }
        let client = ConnectorClient(
            services: services, profileId: profile, baseURL: settings.connectorURL ?? defaultConnectorURL)
        let appId = (try? await adminCenterValues(settings))?.values.first { $0.id == "app_id" }?.value ?? ""
        do {
            let result = try await client.check(
                IntegrationCheckRequest(
                    repositoryId: mode.allowsCases ? settings.repositoryId : nil,
                    endpoint: mode.allowsCases ? services.publicURL : nil,
                    authenticationType: mode.authenticationType))
            settings.completedAt = services.now
            settings.tenantId = result.tenantId
            settings.capabilities = result.capabilities
            try await save(settings)
            await services.log(
                .information,
                "Microsoft 365 support setup complete: tenant \(result.tenantId), mode \(mode.rawValue), "
                    + "capabilities \(result.capabilities.joined(separator: ", "))")
            return settings
        } catch let failure as AppFailure {
            let logId = await services.log(.error, "Setup: the final check failed: \(failure.detail)")
            switch failure.kind {
            case .finalStepMissing:
                throw SetupProblem(
                    message: "The Connector does not know this desk yet: the Microsoft 365 administrator has to enter "
                        + "App ID \(appId) in the Microsoft 365 admin center (Settings → Org settings → Organization "
                        + "profiles → Support integration) first. (\(failure.detail))",
                    logId: logId)
            default:
                throw SetupProblem(message: failure.message + " (\(failure.detail))", logId: logId)
            }
        }
    }

    func reset() async throws {
        try await store.reset()
        await services.log(.warning, "Microsoft 365 support setup reset by \(userName)")
    }

    /// The first step not done yet (the summary when all are).
    static func firstOpenStep(_ settings: AppSettings) -> SetupStep? {
        if settings.consentAt == nil { return .consent }
        if settings.outboundProfile == nil { return .outbound }
        if settings.inbound == nil { return .inbound }
        if !settings.isComplete { return .repository }
        return nil
    }

    private func requireConsent() async throws -> AppSettings {
        let settings = try await load()
        guard settings.consentAt != nil else { throw SetupProblem(message: "Accept the consent (step 1) first.") }
        return settings
    }

    private func requireOutbound() async throws -> AppSettings {
        let settings = try await requireConsent()
        guard settings.outboundProfile != nil else {
            throw SetupProblem(message: "Choose the outbound OAuth provider (step 2) first.")
        }
        return settings
    }

    private func requireInbound() async throws -> AppSettings {
        let settings = try await requireOutbound()
        guard settings.inbound != nil else {
            throw SetupProblem(message: "Choose or skip the inbound OAuth provider (step 3) first.")
        }
        return settings
    }
}

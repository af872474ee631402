import AsyncHTTPClient
import Foundation
import ServerSupport
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
        try await reading("the Application Registry") { try await services.providerProfiles() }
    }

    /// Runs a read of the desk's tables; a refusal by the cross-scope access policy becomes a ``SetupProblem``
    /// that names `what` and lets the page explain the policy.
    private func reading<T>(_ what: String, _ read: () async throws -> T) async throws -> T {
        do {
            return try await read()
        } catch let refusal as CrossScopeRefusal {
            let logId = await services.log(.warning, "Setup cannot read \(what): \(refusal)")
            throw SetupProblem(
                message: "The app may not read \(what).", logId: logId, crossScopeRefusal: refusal.description)
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

    /// Step 3. Skipping it is the insights-only mode; an inbound OAuth client is the basic mode; an OIDC provider
    /// entity (the *external OIDC token* box) is the aad mode, whose metadata must answer with a fitting issuer.
    func setInbound(_ choice: AppSettings.Inbound?, entity: String? = nil) async throws -> AppSettings {
        var settings = try await requireOutbound()
        let previous = (settings.inbound, settings.inboundEntity)
        switch choice {
        case .none?, nil:
            settings.inbound = AppSettings.Inbound.none
            settings.inboundEntity = nil
        case .client?:
            let clients = try await reading("the Application Registry") { try await services.inboundClients() }
            guard let chosen = Self.pick(entity, from: clients) else {
                throw SetupProblem(
                    message: clients.isEmpty
                        ? "There is no inbound OAuth client yet: create one in System OAuth › Application Registry › "
                            + "Create an OAuth API endpoint for external clients, then pick it here."
                        : "Choose the inbound OAuth client the Microsoft 365 support connector will use.")
            }
            guard chosen.active else { throw SetupProblem(message: "The OAuth client \(chosen.name) is not active.") }
            settings.inbound = .client
            settings.inboundEntity = chosen.sysId
        case .oidc?:
            let providers = try await reading("the Application Registry") { try await services.oidcEntities() }
            guard let chosen = Self.pick(entity, from: providers) else {
                throw SetupProblem(
                    message: providers.isEmpty
                        ? "There is no OIDC provider entity yet: create one in System OAuth › Application Registry › "
                            + "Configure an OIDC provider to verify ID tokens, then pick it here."
                        : "Choose the OIDC provider entity that verifies Microsoft Entra tokens.")
            }
            guard chosen.active else { throw SetupProblem(message: "The OIDC provider \(chosen.name) is not active.") }
            try await checkOIDC(chosen)
            settings.inbound = .oidc
            settings.inboundEntity = chosen.sysId
        }
        if previous.0 != settings.inbound || previous.1 != settings.inboundEntity {
            settings.completedAt = nil
            if previous.0 != settings.inbound {
                settings.integrationUser = nil
                settings.restUserApp = nil
            }
        }
        try await save(settings)
        await services.log(
            .information,
            "Microsoft 365 support setup: inbound \(settings.inbound?.rawValue ?? "none")"
                + (settings.inboundEntity.map { " (entity \($0))" } ?? ""))
        return settings
    }

    /// An entity by `sys_id`, name or client ID.
    static func pick(_ wanted: String?, from entities: [DeskAppServices.RegistryEntity])
        -> DeskAppServices.RegistryEntity?
    {
        guard let wanted = wanted?.trimmingCharacters(in: .whitespaces), !wanted.isEmpty else { return nil }
        return entities.first { $0.sysId == wanted } ?? entities.first { $0.name == wanted }
            ?? entities.first { $0.clientId == wanted }
    }

    /// The aad mode's OIDC entity: its metadata URL must answer with an issuer of the same tenant, and it must map
    /// the token's `appid` to the user ID, as the guide configures it.
    private func checkOIDC(_ entity: DeskAppServices.RegistryEntity) async throws {
        guard let metadata = entity.metadataURL, let url = URL(string: metadata), url.scheme != nil, url.host != nil
        else {
            throw SetupProblem(message: "The OIDC provider \(entity.name) has no OIDC metadata URL.")
        }
        guard entity.userClaim?.lowercased() == "appid" else {
            throw SetupProblem(
                message: "The OIDC provider configuration of \(entity.name) maps the claim "
                    + "'\(entity.userClaim ?? "sub")'; set User Claim to appid, so the REST user app's token names "
                    + "the integration user.")
        }
        guard ["user_id", "user_name"].contains(entity.userField?.lowercased() ?? "") else {
            throw SetupProblem(
                message: "The OIDC provider configuration of \(entity.name) matches users by "
                    + "'\(entity.userField ?? "?")'; set User Field to User ID.")
        }
        var request = HTTPClientRequest(url: metadata)
        request.method = .GET
        request.headers.add(name: "Accept", value: "application/json")
        let exchange: OutboundExchange
        do {
            exchange = try await services.send(request)
        } catch let failure as OutboundFailure {
            let logId = await services.log(.error, "Setup: the OIDC metadata URL did not answer: \(failure)")
            throw SetupProblem(
                message: "The OIDC metadata URL \(metadata) could not be reached (\(failure.reason)).", logId: logId)
        }
        struct Metadata: Decodable {
            let issuer: String?
            let jwksUri: String?
            enum CodingKeys: String, CodingKey {
                case issuer
                case jwksUri = "jwks_uri"
            }
        }
        guard exchange.status == .ok,
            let document = try? JSONDecoder().decode(Metadata.self, from: Data(exchange.body.readableBytesView)),
            let issuer = document.issuer, let issuerURL = URL(string: issuer), issuerURL.host != nil,
            document.jwksUri != nil
        else {
            let logId = await services.log(
                .error, "Setup: \(metadata) answered \(exchange.status.code) without an OpenID issuer and jwks_uri")
            throw SetupProblem(
                message: "\(metadata) answered \(exchange.status.code), not an OpenID Connect metadata document with "
                    + "an issuer and signing keys.",
                logId: logId)
        }
        // Entra's metadata URL and issuer both carry the tenant: a single-tenant setup must name the same one.
        let tenantInURL = url.pathComponents.dropFirst().first?.lowercased() ?? ""
        let issuerParts = Set(issuerURL.pathComponents.map { $0.lowercased() })
        if UUID(uuidString: tenantInURL) != nil, !issuerParts.contains(tenantInURL) {
            throw SetupProblem(
                message: "The issuer \(issuer) of \(metadata) is not the tenant \(tenantInURL) the URL names.")
        }
        if let tenant = try await load().tenantId, UUID(uuidString: tenant) != nil,
            !issuerParts.contains(tenant.lowercased()) && !issuerParts.contains("{tenantid}")
        {
            throw SetupProblem(
                message: "The issuer \(issuer) is not the Microsoft 365 tenant \(tenant) this desk is integrated with.")
        }
    }

    /// Step 4. basic: a web-service-only desk user; aad: the REST user app's client ID, which the OIDC entity maps
    /// to the user whose user ID it is (created, web-service-only, when `createUser` says so).
    func setIntegrationUser(user: String? = nil, restUserApp: String? = nil, createUser: Bool = false) async throws
        -> AppSettings
    {
        var settings = try await requireInbound()
        let previous = settings.integrationUser
        switch settings.mode {
        case .insightsOnly?, nil:
            return settings
        case .basic?:
            guard let wanted = user?.trimmingCharacters(in: .whitespaces), !wanted.isEmpty, wanted.count <= 100
            else { throw SetupProblem(message: "Choose the integration user for inbound calls.") }
            guard
                let found = try await reading("the desk's users", { try await services.user(sysIdOrUserName: wanted) })
            else {
                throw SetupProblem(message: "There is no active desk user \(wanted).")
            }
            guard found.webServiceAccessOnly else {
                throw SetupProblem(
                    message: "\(found.userName) may sign in interactively. The integration user must be "
                        + "web-service-only: tick Web service access only on the user record (its password travels "
                        + "to Microsoft, so it must not open the desk's pages), or choose another user.")
            }
            settings.integrationUser = found.sysId
            settings.restUserApp = nil
        case .aad?:
            guard let app = restUserApp?.trimmingCharacters(in: .whitespaces).lowercased(), !app.isEmpty,
                app.count <= 100,
                app.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-") })
            else {
                throw SetupProblem(
                    message: "Enter the REST user app's client ID (Application ID) from Microsoft Entra ID.")
            }
            var found = try await reading("the desk's users") { try await services.user(sysIdOrUserName: app) }
            if found == nil {
                guard createUser else {
                    throw SetupProblem(
                        message: "No desk user has the user ID \(app). Tick Create the integration user to create a "
                            + "web-service-only user with that user ID, or create it yourself.")
                }
                let userName = self.userName
                do {
                    _ = try await services.transaction(by: userName) { writer in
                        try await writer.insert(
                            "sys_user",
                            [
                                "user_name": app, "first_name": "Microsoft 365 support", "last_name": "REST user app",
                                "web_service_access_only": "true", "active": "true",
                            ])
                    }
                } catch let refusal as CrossScopeRefusal {
                    let logId = await services.log(.warning, "Setup cannot create the integration user: \(refusal)")
                    throw SetupProblem(
                        message: "The app may not create users.", logId: logId, crossScopeRefusal: refusal.description)
                }
                await services.log(.information, "Microsoft 365 support setup: created integration user \(app)")
                found = try await services.user(sysIdOrUserName: app)
            }
            guard let found else { throw SetupProblem(message: "The integration user \(app) could not be read.") }
            guard found.webServiceAccessOnly else {
                throw SetupProblem(
                    message: "\(found.userName) may sign in interactively. The integration user must be "
                        + "web-service-only: tick Web service access only on the user record.")
            }
            settings.integrationUser = found.sysId
            settings.restUserApp = app
        }
        if previous != settings.integrationUser { settings.completedAt = nil }
        try await save(settings)
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
    func setAppSettings(
        ssoEnabled: Bool, adminEmail: String?, testEnvironment: Bool, ipAllowListEnabled: Bool? = nil,
        ipAllowList: String? = nil
    ) async throws -> AppSettings {
        var settings = try await requireInbound()
        if let ipAllowList {
            let (list, invalid) = AddressAllowList.parse(ipAllowList)
            guard invalid.isEmpty else {
                throw SetupProblem(
                    message: "Not an IP address or CIDR range: \(invalid.prefix(5).joined(separator: ", ")).")
            }
            settings.ipAllowList = list.text
        }
        if let ipAllowListEnabled {
            if ipAllowListEnabled, AddressAllowList.parse(settings.ipAllowList).list.ranges.isEmpty {
                throw SetupProblem(message: "The IP allow-list is empty: it would refuse every inbound call.")
            }
            settings.ipAllowListEnabled = ipAllowListEnabled
        }
        let email = adminEmail?.trimmingCharacters(in: .whitespaces) ?? ""
        if !email.isEmpty {
            guard EmailAddress.isValid(email) else {
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
        guard let mode = settings.mode, mode.allowsCases else { return AdminCenterValues(values: values) }
        values.append(
            .init(
                id: "endpoint", label: "Endpoint", value: services.publicURL,
                help: "Where Microsoft delivers case updates."))
        let entity = try? await (mode == .basic ? services.inboundClients() : services.oidcEntities())
            .first { $0.sysId == settings.inboundEntity }
        var user: DeskAppUser?
        if let integrationUser = settings.integrationUser {
            user = try? await services.user(sysIdOrUserName: integrationUser)
        }
        switch mode {
        case .basic:
            if let entity {
                values.append(
                    .init(
                        id: "client_id", label: "Client ID", value: entity.clientId,
                        help: "The inbound OAuth client \(entity.name); its client secret is entered too (shown once "
                            + "when the client was created)."))
            }
            if let user {
                values.append(
                    .init(
                        id: "username", label: "Username", value: user.userName,
                        help: "The web-service-only integration user."))
                values.append(
                    .init(
                        id: "password", label: "Password", value: "the password of \(user.userName)",
                        help: "Set on the user record; it is never shown here."))
            }
        case .aad:
            if let entity {
                values.append(
                    .init(
                        id: "rest_api_app", label: "REST API app's client ID", value: entity.clientId,
                        help: "The app registration the desk's tokens are issued for (\(entity.name))."))
            }
            if let app = settings.restUserApp {
                values.append(
                    .init(
                        id: "rest_user_app", label: "REST user app", value: app,
                        help: "The app registration that asks for the tokens; its client secret is entered too."))
            }
        case .insightsOnly:
            break
        }
        return AdminCenterValues(values: values)
    }

    /// Step 7: the Connector must confirm that the organization profile holds this App ID (and repository).
    func complete() async throws -> AppSettings {
        var settings = try await requireInbound()
        guard let mode = settings.mode, let profile = settings.outboundProfile else {
            throw SetupProblem(message: "Complete the earlier steps first.")
        }
        if mode.allowsCases {
            guard settings.integrationUser != nil else {
                throw SetupProblem(message: "Choose the integration user (step 4) first.")
            }
            guard settings.repositoryId != nil else {
                throw SetupProblem(message: "Enter the repository ID (step 5) first.")
            }
        }
        let client = ConnectorClient(
            services: services, profileId: profile, baseURL: settings.connectorURL ?? defaultConnectorURL)
        let appId = (try? await adminCenterValues(settings))?.values.first { $0.id == "app_id" }?.value ?? ""
        do {
            let values = try await adminCenterValues(settings).values
            func value(_ id: String) -> String? { values.first { $0.id == id }?.value }
            let result = try await client.check(
                IntegrationCheckRequest(
                    repositoryId: mode.allowsCases ? settings.repositoryId : nil,
                    endpoint: mode.allowsCases ? services.publicURL : nil,
                    authenticationType: mode.authenticationType,
                    clientId: mode == .basic ? value("client_id") : mode == .aad ? value("rest_api_app") : nil,
                    userName: mode == .basic ? value("username") : mode == .aad ? value("rest_user_app") : nil))
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
        if settings.mode?.allowsCases == true, settings.integrationUser == nil { return .user }
        if settings.mode?.allowsCases == true, settings.repositoryId == nil { return .repository }
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

import ArgumentParser
import AsyncHTTPClient
import Foundation
import Identity
import Logging
import NIOCore
import NIOHTTP1
import ServerSupport
import ServiceDesk
import WireModels

struct DemoCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "demo", abstract: "Set up the running demo as the setup guide does.",
        subcommands: [Configure.self])

    /// Performs a setup mode's whole setup through the services' HTTP APIs — Identity's and the Connector's admin
    /// APIs, the desk's Table API and the app's setup API — printing each step by the guide's name.
    struct Configure: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Perform the guide's setup of a mode against running services (idempotent; --reset undoes it).")

        enum Mode: String, ExpressibleByArgument, CaseIterable {
            case insights, basic, aad
        }

        @OptionGroup var data: DataOptions
        @Option(help: "insights (service health and solutions), basic or aad (also Microsoft support cases).")
        var mode: Mode = .insights
        @Flag(help: "Undo the setup instead.") var reset = false
        @Option(name: .customLong("identity-url")) var identityURL = "https://127.0.0.1:8443"
        @Option(name: .customLong("connector-url")) var connectorURL = "https://127.0.0.1:8444"
        @Option(name: .customLong("desk-url")) var deskURL = "https://127.0.0.1:8445"
        @Option(help: "The Microsoft 365 tenant (ID or domain).") var tenant = IdentityDemoSeed.tenantDomain
        @Option(help: "The Connector's resource identifier (env M365_CONNECTOR_RESOURCE).") var resource: String?
        @Option(name: .customLong("desk-admin"), help: "A desk admin's user name.") var deskAdmin = "desk.admin"
        @Option(name: .customLong("repository-id"), help: "The desk's repository ID (basic and aad).")
        var repositoryId = "contoso-servicenow"
        @Flag(help: "Turn on SSO with Microsoft 365, with Microsoft 365 accounts for the desk's app users.")
        var sso = false

        /// What this command created, kept in `demo.json` so a second run reuses it.
        struct Created: Codable {
            var appId: String
            var secret: String
        }

        /// The aad mode's app registrations: the REST API app (the tokens' audience) and the REST user app.
        struct AADApps: Codable {
            var restAPIAppId: String
            var restUserAppId: String
            var restUserSecret: String
        }

        /// Microsoft 365 accounts made for desk users (SSO), by user principal name.
        struct SSOAccount: Codable {
            var userPrincipalName: String
            var password: String
            var roles: [String]
        }

        /// The basic mode's inbound client and integration user, when the demo seed's are not at hand.
        struct BasicInbound: Codable {
            var clientName: String
            var clientId: String
            var clientSecret: String
            var userName: String
            var password: String
        }

        static let providerName = "Microsoft 365 support (outbound)"
        static let appName = "ServiceNow outbound (Microsoft 365 support)"
        static let inboundName = "Microsoft 365 support (inbound)"
        static let oidcName = "Microsoft 365 support (Microsoft Entra ID)"
        static let restAPIName = "ServiceNow REST API (Microsoft 365 support)"
        static let restUserName = "ServiceNow REST user (Microsoft 365 support)"

        /// The services' addresses and credentials every step uses.
        struct Context {
            let client: APIClient
            let desk: APIClient.Auth
            let identity: APIClient.Auth
            let connector: APIClient.Auth
            let tenantId: String
            let domain: String
            let demoFile: DemoCredentialsFile
        }

        func run() async throws {
            Logs.bootstrap(default: .warning)
            let environment = data.environment
            let dataURL = data.dataURL
            let demoFile = DemoCredentialsFile(dataDirectory: dataURL)
            let ca = dataURL.appendingPathComponent("tls/ca.pem")
            let http = try LoggedHTTPClient(
                tls: TLSSettings(
                    server: nil, trustedCAFiles: FileManager.default.fileExists(atPath: ca.path) ? [ca] : []))
            defer { Task { try? await http.shutdown() } }
            let client = APIClient(http: http)
            func secret(_ variable: String, file: String) throws -> String {
                if let value = environment.string(variable) { return value }
                let url = dataURL.appendingPathComponent(file)
                guard let text = try? String(contentsOf: url, encoding: .utf8) else {
                    throw CommandFailure(message: "No \(variable) and no \(url.path): start the services first.")
                }
                return text.trimmingCharacters(in: .whitespacesAndNewlines)
            }
            let identityToken = try secret("M365_IDENTITY_ADMIN_TOKEN", file: "identity-admin-token")
            let connectorToken = try secret("M365_CONNECTOR_ADMIN_TOKEN", file: "connector-admin-token")
            let deskPassword =
                try environment.string("M365_DESK_ADMIN_PASSWORD")
                ?? demoFile.section("desk", as: DeskDemoSeed.Credentials.self)?.users
                .first { $0.userName == deskAdmin }?.password
            guard let deskPassword else {
                throw CommandFailure(message: "No password for \(deskAdmin): set M365_DESK_ADMIN_PASSWORD.")
            }
            let tenants = try await client.json(
                .GET, identityURL + "/admin/api/tenants", auth: .bearer(identityToken))
            guard
                let tenantRecord =
                    (tenants as? [[String: Any]] ?? (tenants as? [String: Any])?["value"]
                    as? [[String: Any]] ?? [])
                    .first(where: {
                        ($0["id"] as? String) == tenant || (($0["domains"] as? [String]) ?? []).contains(tenant)
                    }),
                let tenantId = tenantRecord["id"] as? String
            else { throw CommandFailure(message: "Identity has no tenant \(tenant).") }
            let context = Context(
                client: client, desk: .basic(deskAdmin, deskPassword), identity: .bearer(identityToken),
                connector: .bearer(connectorToken), tenantId: tenantId,
                domain: (tenantRecord["domains"] as? [String])?.first ?? tenant, demoFile: demoFile)
            if reset {
                try await undo(context)
            } else {
                try await configure(context, environment: environment)
            }
        }

        private var setupPath: String { deskURL + "/api/x_mioms_m365_assis/v1/setup" }

        /// The `sys_id` of the desk record of `table` whose `field` is `value`, if any.
        private func deskRecord(_ table: String, field: String = "name", value: String, _ context: Context)
            async throws -> String?
        {
            let found = try await context.client.json(
                .GET,
                deskURL + "/api/now/table/\(table)?sysparm_query="
                    + "\(field)=\(value)".addingPercentEncoding(withAllowedCharacters: .alphanumerics)!,
                auth: context.desk)
            return ((found as? [String: Any])?["result"] as? [[String: Any]])?.first?["sys_id"] as? String
        }

        /// Creates or updates the desk record of `table` named `fields["name"]`; returns its `sys_id`.
        private func putDeskRecord(_ table: String, _ fields: [String: Any], _ context: Context) async throws
            -> String
        {
            try await putDeskRecordBy(table, field: "name", value: fields["name"] as? String ?? "", fields, context)
        }

        private func undo(_ context: Context) async throws {
            let client = context.client
            step("Setup: reset the Microsoft 365 support app's settings")
            _ = try await client.json(.DELETE, setupPath, auth: context.desk)
            step("Microsoft 365 admin center: remove the App ID and the repository from the organization profile")
            _ = try await client.json(
                .PATCH, connectorURL + "/admin/api/tenants/\(context.tenantId)/profile", auth: context.connector,
                body: ["appId": ""])
            _ = try await client.json(
                .DELETE, connectorURL + "/admin/api/tenants/\(context.tenantId)/profile/repositories/\(repositoryId)",
                auth: context.connector, accept: [404])
            for (table, name) in [("oauth_entity", Self.providerName), ("oauth_entity", Self.oidcName)] {
                if let id = try await deskRecord(table, value: name, context) {
                    step("ServiceNow: delete '\(name)' from the Application Registry")
                    _ = try await client.json(.DELETE, deskURL + "/api/now/table/\(table)/\(id)", auth: context.desk)
                }
            }
            print("Done. App registrations stay in Identity and are reused by the next configure.")
        }

        private func configure(_ context: Context, environment: EnvironmentReader) async throws {
            let client = context.client
            let tenantId = context.tenantId
            let resourceId =
                resource ?? environment.string("M365_CONNECTOR_RESOURCE") ?? ConnectorResource.defaultIdentifier

            step("Microsoft Entra ID: register the outbound app '\(Self.appName)'")
            var created = try context.demoFile.section("insightsSetup", as: Created.self)
            if created == nil {
                let app = try await client.json(
                    .POST, identityURL + "/admin/api/tenants/\(tenantId)/apps", auth: context.identity,
                    body: ["displayName": Self.appName])
                guard let object = app as? [String: Any], let appId = object["appId"] as? String,
                    let secret = object["secret"] as? String
                else { throw CommandFailure(message: "Identity created no app: \(app)") }
                created = Created(appId: appId, secret: secret)
                try context.demoFile.write(section: "insightsSetup", created)
            }
            guard let created else { return }
            print("  App ID: \(created.appId)")
            step("Microsoft Entra ID: grant it the Connector's application permissions (admin consent)")
            for role in ConnectorResource.Role.all {
                _ = try await client.json(
                    .POST, identityURL + "/admin/api/tenants/\(tenantId)/apps/\(created.appId)/grants",
                    auth: context.identity, body: ["resource": resourceId, "role": role], accept: [409])
                print("  \(role)")
            }
            step(
                "Microsoft Entra ID: add the desk's single sign-on address to the app (Authentication › Redirect URIs)")
            _ = try await client.json(
                .POST, identityURL + "/admin/api/tenants/\(tenantId)/apps/\(created.appId)/redirectUris",
                auth: context.identity, body: ["uri": deskURL + "/x_mioms_m365_assis_sso_callback.do"])
            step("Microsoft Entra ID: grant admin consent to sign users in (Microsoft Graph User.Read)")
            _ = try await client.json(
                .POST, identityURL + "/admin/api/tenants/\(tenantId)/apps/\(created.appId)/consents",
                auth: context.identity,
                body: ["resource": MicrosoftGraphResource.identifierURI, "scopes": ["User.Read"]], accept: [409])
            if sso { try await ssoAccounts(context) }
            step("ServiceNow: System OAuth › Application Registry › Connect to a third party OAuth Provider")
            let entity = try await putDeskRecord(
                "oauth_entity",
                [
                    "name": Self.providerName, "type": "oauth_provider", "client_id": created.appId,
                    "client_secret": created.secret, "token_url": "\(identityURL)/\(tenantId)/oauth2/token",
                    "resource": resourceId, "default_grant_type": "client_credentials", "active": "true",
                ], context)
            let profiles = try await client.json(
                .GET, deskURL + "/api/now/table/oauth_entity_profile?sysparm_query=oauth_entity=\(entity)",
                auth: context.desk)
            guard
                let profile = ((profiles as? [String: Any])?["result"] as? [[String: Any]])?.first?["sys_id"]
                    as? String
            else { throw CommandFailure(message: "The OAuth provider has no profile.") }
            print("  OAuth profile: \(profile)")

            step("Setup step 1: Consent")
            _ = try await client.json(.POST, setupPath + "/consent", auth: context.desk, body: [:])
            step("Setup step 2: Outbound OAuth provider (a token is fetched and the Connector asked)")
            _ = try await client.json(
                .PUT, setupPath + "/outbound", auth: context.desk,
                body: ["profile": profile, "connectorUrl": connectorURL])

            var repository: [String: Any]?
            switch mode {
            case .insights:
                step("Setup step 3: Inbound OAuth provider — skipped (insights only)")
                _ = try await client.json(.PUT, setupPath + "/inbound", auth: context.desk, body: ["choice": "none"])
                step("Setup step 4: Integration user — skipped (insights only)")
                step("Setup step 5: Repository ID — skipped (insights only)")
                _ = try await client.json(.PUT, setupPath + "/repository", auth: context.desk, body: [:])
            case .basic:
                let inbound = try await basicInbound(context)
                step("Setup step 3: Inbound OAuth provider — the inbound OAuth client '\(inbound.clientName)'")
                _ = try await client.json(
                    .PUT, setupPath + "/inbound", auth: context.desk,
                    body: ["choice": "client", "entity": inbound.clientId])
                step("Setup step 4: Integration user — \(inbound.userName) (web-service-only)")
                _ = try await client.json(
                    .PUT, setupPath + "/user", auth: context.desk, body: ["user": inbound.userName])
                step("Setup step 5: Repository ID — \(repositoryId)")
                _ = try await client.json(
                    .PUT, setupPath + "/repository", auth: context.desk, body: ["repositoryId": repositoryId])
                repository = [
                    "endpoint": deskURL, "authenticationType": "basic", "clientId": inbound.clientId,
                    "clientSecret": inbound.clientSecret, "restUserName": inbound.userName,
                    "restUserPassword": inbound.password, "refreshTokenExpiration": 864_000,
                ]
            case .aad:
                let apps = try await aadApps(context)
                step("ServiceNow: Application Registry › Configure an OIDC provider to verify ID tokens")
                let metadata = "\(identityURL)/\(tenantId)/.well-known/openid-configuration"
                let configuration = try await putDeskRecordBy(
                    "oidc_provider_configuration", field: "oidc_provider", value: Self.oidcName,
                    [
                        "oidc_provider": Self.oidcName, "oidc_metadata_url": metadata, "user_claim": "appid",
                        "user_field": "user_id", "oidc_config_cache_life_span": 120,
                    ], context)
                _ = try await putDeskRecord(
                    "oauth_entity",
                    [
                        "name": Self.oidcName, "type": "oidc_provider", "client_id": apps.restAPIAppId,
                        "oidc_provider_configuration": configuration, "active": "true",
                    ], context)
                print("  metadata URL: \(metadata); client ID (REST API app): \(apps.restAPIAppId)")
                step("Setup step 3: Inbound OAuth provider — external OIDC token, '\(Self.oidcName)'")
                _ = try await client.json(
                    .PUT, setupPath + "/inbound", auth: context.desk,
                    body: ["choice": "oidc", "entity": Self.oidcName])
                step("Setup step 4: Integration user — the REST user app's client ID \(apps.restUserAppId)")
                _ = try await client.json(
                    .PUT, setupPath + "/user", auth: context.desk,
                    body: ["restUserApp": apps.restUserAppId, "createUser": true])
                step("Setup step 5: Repository ID — \(repositoryId)")
                _ = try await client.json(
                    .PUT, setupPath + "/repository", auth: context.desk, body: ["repositoryId": repositoryId])
                repository = [
                    "endpoint": deskURL, "authenticationType": "aad", "clientId": apps.restAPIAppId,
                    "restUserName": apps.restUserAppId, "restUserPassword": apps.restUserSecret,
                ]
            }
            step("Setup step 6: App settings")
            _ = try await client.json(
                .PUT, setupPath + "/settings", auth: context.desk,
                body: ["adminEmail": "admin@\(context.domain)", "ssoEnabled": sso, "testEnvironment": true])
            step("Microsoft 365 admin center: Settings › Org settings › Organization profiles › Support integration")
            _ = try await client.json(
                .PATCH, connectorURL + "/admin/api/tenants/\(tenantId)/profile", auth: context.connector,
                body: ["supportTool": "ServiceNow", "appId": created.appId])
            print("  App ID: \(created.appId)")
            if let repository {
                _ = try await client.json(
                    .PUT, connectorURL + "/admin/api/tenants/\(tenantId)/profile/repositories/\(repositoryId)",
                    auth: context.connector, body: repository)
                print("  Repository \(repositoryId): endpoint \(deskURL), authentication \(mode.rawValue)")
            }
            step("Setup step 7: Complete integration")
            let done = try await client.json(.POST, setupPath + "/complete", auth: context.desk)
            let state = (done as? [String: Any])?["result"] as? [String: Any] ?? [:]
            print("  mode: \(state["mode"] as? String ?? "?"), tenant \(state["tenantId"] as? String ?? "?")")
            switch mode {
            case .insights:
                print(
                    "Done. Open an incident in \(deskURL) as an agent with the insights role and choose the "
                        + "'Microsoft 365 support' tab.")
            case .basic, .aad:
                print(
                    "Done. Open an incident in \(deskURL) as an agent with the Microsoft 365 support administrator "
                        + "role (david.loo in the demo), choose the 'Microsoft 365 support' tab and open a case; "
                        + "engineers answer it in \(connectorURL)/console.")
            }
        }

        /// Microsoft 365 accounts with the desk e-mails of the app's demo users (david.loo holds Service Support
        /// Administrator, so cases he opens name himself), created once and kept in `demo.json`.
        private func ssoAccounts(_ context: Context) async throws {
            step("Microsoft Entra ID: accounts for the desk's Microsoft 365 support users (single sign-on)")
            var accounts = try context.demoFile.section("ssoAccounts", as: [SSOAccount].self) ?? []
            let users = try await context.client.json(
                .GET, deskURL + "/api/now/table/sys_user?sysparm_query=user_nameINdavid.loo,beth.anglin",
                auth: context.desk)
            for user in ((users as? [String: Any])?["result"] as? [[String: Any]]) ?? [] {
                guard let email = (user["email"] as? String)?.lowercased(), !email.isEmpty,
                    !accounts.contains(where: { $0.userPrincipalName == email })
                else { continue }
                let password = RandomToken.password()
                let name = "\(user["first_name"] as? String ?? "") \(user["last_name"] as? String ?? "")"
                _ = try await context.client.json(
                    .POST, identityURL + "/admin/api/tenants/\(context.tenantId)/users", auth: context.identity,
                    body: ["userPrincipalName": email, "displayName": name, "password": password])
                var roles: [String] = []
                if user["user_name"] as? String == "david.loo" {
                    _ = try await context.client.json(
                        .POST, identityURL + "/admin/api/tenants/\(context.tenantId)/users/\(email)/roles",
                        auth: context.identity,
                        body: ["role": DirectoryRoleTemplate.serviceSupportAdministrator.templateId])
                    roles.append(DirectoryRoleTemplate.serviceSupportAdministrator.displayName)
                }
                accounts.append(SSOAccount(userPrincipalName: email, password: password, roles: roles))
                try context.demoFile.write(section: "ssoAccounts", accounts)
            }
            for account in accounts { print("  \(account.userPrincipalName) (password in demo.json ssoAccounts)") }
        }

        /// Creates or updates the desk record of `table` whose `field` is `value`; returns its `sys_id`.
        private func putDeskRecordBy(
            _ table: String, field: String, value: String, _ fields: [String: Any], _ context: Context
        ) async throws -> String {
            if let existing = try await deskRecord(table, field: field, value: value, context) {
                _ = try await context.client.json(
                    .PATCH, deskURL + "/api/now/table/\(table)/\(existing)", auth: context.desk, body: fields)
                return existing
            }
            let made = try await context.client.json(
                .POST, deskURL + "/api/now/table/\(table)", auth: context.desk, body: fields)
            guard let id = ((made as? [String: Any])?["result"] as? [String: Any])?["sys_id"] as? String else {
                throw CommandFailure(message: "The desk created no \(table) record: \(made)")
            }
            return id
        }

        /// The inbound OAuth client and web-service-only integration user: the demo seed's when this data folder
        /// has them, else created once through the Table API and kept in `demo.json`.
        private func basicInbound(_ context: Context) async throws -> BasicInbound {
            if let kept = try context.demoFile.section("basicSetup", as: BasicInbound.self) { return kept }
            let seeded = try context.demoFile.section("desk", as: DeskDemoSeed.Credentials.self)
            if let seeded, let client = seeded.oauthClients.first(where: { $0.name == Self.inboundName }),
                let user = seeded.users.first(where: { $0.webServiceAccessOnly })
            {
                step("ServiceNow: the inbound OAuth client '\(client.name)' and user \(user.userName) (demo seed)")
                return BasicInbound(
                    clientName: client.name, clientId: client.clientId, clientSecret: client.clientSecret,
                    userName: user.userName, password: user.password)
            }
            step("ServiceNow: Application Registry › Create an OAuth API endpoint for external clients")
            let secret = RandomToken.password()
            let entity = try await putDeskRecord(
                "oauth_entity",
                [
                    "name": Self.inboundName, "type": "client", "client_secret": secret,
                    "refresh_token_lifespan": 864_000, "active": "true",
                ], context)
            let record = try await context.client.json(
                .GET, deskURL + "/api/now/table/oauth_entity/\(entity)", auth: context.desk)
            guard let clientId = ((record as? [String: Any])?["result"] as? [String: Any])?["client_id"] as? String
            else { throw CommandFailure(message: "The inbound OAuth client has no client ID.") }
            step("ServiceNow: create the web-service-only integration user m365.integration")
            let password = RandomToken.password()
            _ = try await putDeskRecordBy(
                "sys_user", field: "user_name", value: "m365.integration",
                [
                    "user_name": "m365.integration", "first_name": "Microsoft 365", "last_name": "Integration",
                    "user_password": password, "web_service_access_only": "true", "active": "true",
                ], context)
            let inbound = BasicInbound(
                clientName: Self.inboundName, clientId: clientId, clientSecret: secret, userName: "m365.integration",
                password: password)
            try context.demoFile.write(section: "basicSetup", inbound)
            return inbound
        }

        /// The REST API and REST user app registrations (aad), created once and kept in `demo.json`.
        private func aadApps(_ context: Context) async throws -> AADApps {
            step("Microsoft Entra ID: register '\(Self.restAPIName)' and '\(Self.restUserName)'")
            if let kept = try context.demoFile.section("aadSetup", as: AADApps.self) {
                print("  REST API app: \(kept.restAPIAppId); REST user app: \(kept.restUserAppId)")
                return kept
            }
            let apps = identityURL + "/admin/api/tenants/\(context.tenantId)/apps"
            let api = try await context.client.json(
                .POST, apps, auth: context.identity,
                body: ["displayName": Self.restAPIName, "appRoles": ["Incidents.Write"], "withSecret": false])
            let user = try await context.client.json(
                .POST, apps, auth: context.identity, body: ["displayName": Self.restUserName])
            guard let apiId = (api as? [String: Any])?["appId"] as? String,
                let userId = (user as? [String: Any])?["appId"] as? String,
                let secret = (user as? [String: Any])?["secret"] as? String
            else { throw CommandFailure(message: "Identity created no REST apps: \(api) \(user)") }
            step("Microsoft Entra ID: grant the REST user app the REST API app's permission (admin consent)")
            _ = try await context.client.json(
                .POST, apps + "/\(userId)/grants", auth: context.identity,
                body: ["resource": apiId, "role": "Incidents.Write"], accept: [409])
            let made = AADApps(restAPIAppId: apiId, restUserAppId: userId, restUserSecret: secret)
            try context.demoFile.write(section: "aadSetup", made)
            print("  REST API app: \(apiId); REST user app: \(userId)")
            return made
        }

        private func step(_ text: String) { print("• " + text) }
    }
}

/// JSON calls of the services' APIs for management commands; a refusal becomes a ``CommandFailure`` with what
/// the service said.
struct APIClient {
    enum Auth {
        case basic(String, String)
        case bearer(String)
    }

    let http: LoggedHTTPClient

    struct NoLog: OutboundCallLog {
        func record(_ call: OutboundCall) async -> String { "" }
    }

    func json(
        _ method: HTTPMethod, _ url: String, auth: Auth, body: [String: Any]? = nil, accept: Set<UInt> = []
    ) async throws -> Any {
        var request = HTTPClientRequest(url: url)
        request.method = method
        request.headers.add(name: "Accept", value: "application/json")
        var secrets: [String] = []
        switch auth {
        case .basic(let user, let password):
            request.headers.add(
                name: "Authorization", value: "Basic " + Data("\(user):\(password)".utf8).base64EncodedString())
            secrets.append(password)
        case .bearer(let token):
            request.headers.add(name: "Authorization", value: "Bearer \(token)")
            secrets.append(token)
        }
        var buffer: ByteBuffer?
        if let body {
            request.headers.add(name: "Content-Type", value: "application/json")
            buffer = ByteBuffer(data: try JSONSerialization.data(withJSONObject: body))
        }
        let exchange: OutboundExchange
        do {
            exchange = try await http.send(
                request, body: buffer, source: "cli", correlationId: nil, secrets: secrets, log: NoLog(),
                logger: Logger(label: "m365-support.cli"))
        } catch let failure as OutboundFailure {
            throw CommandFailure(message: "\(failure) — is the service running?")
        }
        let data = Data(exchange.body.readableBytesView)
        let object = data.isEmpty ? [:] : ((try? JSONSerialization.jsonObject(with: data)) ?? [:])
        guard (200..<300).contains(exchange.status.code) || accept.contains(exchange.status.code) else {
            let error = (object as? [String: Any])?["error"] as? [String: Any]
            let said =
                error.map { "\($0["message"] as? String ?? "")" + (($0["detail"] as? String).map { " (\($0))" } ?? "") }
                ?? (object as? [String: Any])?["detail"] as? String
                ?? String(decoding: data.prefix(500), as: UTF8.self)
            throw CommandFailure(
                message: "\(method) \(URL(string: url)?.path ?? url) answered \(exchange.status.code): \(said)")
        }
        return object
    }
}

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
        @Option(help: "insights (basic and aad come with cases).") var mode: Mode = .insights
        @Flag(help: "Undo the setup instead.") var reset = false
        @Option(name: .customLong("identity-url")) var identityURL = "https://127.0.0.1:8443"
        @Option(name: .customLong("connector-url")) var connectorURL = "https://127.0.0.1:8444"
        @Option(name: .customLong("desk-url")) var deskURL = "https://127.0.0.1:8445"
        @Option(help: "The Microsoft 365 tenant (ID or domain).") var tenant = IdentityDemoSeed.tenantDomain
        @Option(help: "The Connector's resource identifier (env M365_CONNECTOR_RESOURCE).") var resource: String?
        @Option(name: .customLong("desk-admin"), help: "A desk admin's user name.") var deskAdmin = "desk.admin"

        /// What this command created, kept in `demo.json` so a second run reuses it.
        struct Created: Codable {
            var appId: String
            var secret: String
        }

        static let providerName = "Microsoft 365 support (outbound)"
        static let appName = "ServiceNow outbound (Microsoft 365 support)"

        func run() async throws {
            Logs.bootstrap(default: .warning)
            guard mode == .insights else {
                throw CommandFailure(
                    message: "--mode \(mode.rawValue) needs Microsoft support cases, which this version does not "
                        + "have yet; --mode insights sets up service health and recommended solutions.")
            }
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
            let desk = APIClient.Auth.basic(deskAdmin, deskPassword)
            let setupPath = deskURL + "/api/x_mioms_m365_assis/v1/setup"
            let resourceId =
                resource ?? environment.string("M365_CONNECTOR_RESOURCE")
                ?? ConnectorResource.defaultIdentifier
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

            let existingProvider = try await client.json(
                .GET,
                deskURL + "/api/now/table/oauth_entity?sysparm_query="
                    + "name=\(Self.providerName)".addingPercentEncoding(withAllowedCharacters: .alphanumerics)!,
                auth: desk)
            let providerId =
                ((existingProvider as? [String: Any])?["result"] as? [[String: Any]])?.first?["sys_id"]
                as? String

            if reset {
                step("Setup: reset the Microsoft 365 support app's settings")
                _ = try await client.json(.DELETE, setupPath, auth: desk)
                step("Microsoft 365 admin center: remove the App ID from the organization profile")
                _ = try await client.json(
                    .PATCH, connectorURL + "/admin/api/tenants/\(tenantId)/profile", auth: .bearer(connectorToken),
                    body: ["appId": ""])
                if let providerId {
                    step("ServiceNow: delete the outbound OAuth provider '\(Self.providerName)'")
                    _ = try await client.json(
                        .DELETE, deskURL + "/api/now/table/oauth_entity/\(providerId)", auth: desk)
                }
                print("Done. The app registration stays in Identity and is reused by the next configure.")
                return
            }

            step("Microsoft Entra ID: register the outbound app '\(Self.appName)'")
            var created = try demoFile.section("insightsSetup", as: Created.self)
            if created == nil {
                let app = try await client.json(
                    .POST, identityURL + "/admin/api/tenants/\(tenantId)/apps", auth: .bearer(identityToken),
                    body: ["displayName": Self.appName])
                guard let object = app as? [String: Any], let appId = object["appId"] as? String,
                    let secret = object["secret"] as? String
                else { throw CommandFailure(message: "Identity created no app: \(app)") }
                created = Created(appId: appId, secret: secret)
                try demoFile.write(section: "insightsSetup", created)
            }
            guard let created else { return }
            print("  App ID: \(created.appId)")
            step("Microsoft Entra ID: grant it the Connector's application permissions (admin consent)")
            for role in ConnectorResource.Role.all {
                _ = try await client.json(
                    .POST, identityURL + "/admin/api/tenants/\(tenantId)/apps/\(created.appId)/grants",
                    auth: .bearer(identityToken), body: ["resource": resourceId, "role": role], accept: [409])
                print("  \(role)")
            }
            step("ServiceNow: System OAuth › Application Registry › Connect to a third party OAuth Provider")
            let providerFields: [String: Any] = [
                "name": Self.providerName, "type": "oauth_provider", "client_id": created.appId,
                "client_secret": created.secret, "token_url": "\(identityURL)/\(tenantId)/oauth2/token",
                "resource": resourceId, "default_grant_type": "client_credentials", "active": "true",
            ]
            let entity: String
            if let providerId {
                _ = try await client.json(
                    .PATCH, deskURL + "/api/now/table/oauth_entity/\(providerId)", auth: desk, body: providerFields)
                entity = providerId
            } else {
                let made = try await client.json(
                    .POST, deskURL + "/api/now/table/oauth_entity", auth: desk, body: providerFields)
                guard let id = ((made as? [String: Any])?["result"] as? [String: Any])?["sys_id"] as? String else {
                    throw CommandFailure(message: "The desk created no OAuth provider: \(made)")
                }
                entity = id
            }
            let profiles = try await client.json(
                .GET, deskURL + "/api/now/table/oauth_entity_profile?sysparm_query=oauth_entity=\(entity)", auth: desk)
            guard
                let profile = ((profiles as? [String: Any])?["result"] as? [[String: Any]])?.first?["sys_id"]
                    as? String
            else { throw CommandFailure(message: "The OAuth provider has no profile.") }
            print("  OAuth profile: \(profile)")

            step("Setup step 1: Consent")
            _ = try await client.json(.POST, setupPath + "/consent", auth: desk, body: [:])
            step("Setup step 2: Outbound OAuth provider (a token is fetched and the Connector asked)")
            _ = try await client.json(
                .PUT, setupPath + "/outbound", auth: desk, body: ["profile": profile, "connectorUrl": connectorURL])
            step("Setup step 3: Inbound OAuth provider — skipped (insights only)")
            _ = try await client.json(.PUT, setupPath + "/inbound", auth: desk, body: ["choice": "none"])
            step("Setup step 4: Integration user — skipped (insights only)")
            step("Setup step 5: Repository ID — skipped (insights only)")
            _ = try await client.json(.PUT, setupPath + "/repository", auth: desk, body: [:])
            step("Setup step 6: App settings")
            let domain = (tenantRecord["domains"] as? [String])?.first ?? tenant
            _ = try await client.json(
                .PUT, setupPath + "/settings", auth: desk,
                body: ["adminEmail": "admin@\(domain)", "ssoEnabled": false, "testEnvironment": true])
            step("Microsoft 365 admin center: Settings › Org settings › Organization profiles › Support integration")
            _ = try await client.json(
                .PATCH, connectorURL + "/admin/api/tenants/\(tenantId)/profile", auth: .bearer(connectorToken),
                body: ["supportTool": "ServiceNow", "appId": created.appId])
            print("  App ID: \(created.appId)")
            step("Setup step 7: Complete integration")
            let done = try await client.json(.POST, setupPath + "/complete", auth: desk)
            let state = (done as? [String: Any])?["result"] as? [String: Any] ?? [:]
            print("  mode: \(state["mode"] as? String ?? "?"), tenant \(state["tenantId"] as? String ?? "?")")
            print(
                "Done. Open an incident in \(deskURL) as an agent with the insights role and choose the "
                    + "'Microsoft 365 support' tab.")
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

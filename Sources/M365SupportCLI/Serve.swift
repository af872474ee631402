import ArgumentParser
import Connector
import Foundation
import Identity
import M365SupportApp
import NIOCore
import ServerSupport
import ServiceDesk
import Vapor
import WireModels

struct Serve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Start the services: all of them (default) or one, for production.")

    enum ServiceName: String, ExpressibleByArgument, CaseIterable {
        case all, identity, connector, desk
    }

    @Argument(help: "all, identity, connector or desk.")
    var service: ServiceName = .all

    @OptionGroup var data: DataOptions

    @Option(help: "Address to listen on (env M365_HOST, default 127.0.0.1).")
    var host: String?

    @Option(name: .customLong("identity-port"), help: "Identity's HTTPS port (env M365_IDENTITY_PORT, default 8443).")
    var identityPort: Int?

    @Option(
        name: .customLong("connector-port"), help: "Connector's HTTPS port (env M365_CONNECTOR_PORT, default 8444).")
    var connectorPort: Int?

    @Option(name: .customLong("desk-port"), help: "Service desk's port (env M365_DESK_PORT, default 8445).")
    var deskPort: Int?

    @Flag(name: .customLong("no-demo"), help: "Do not seed the demo tenant and its users.")
    var noDemo = false

    func run() async throws {
        Logs.bootstrap(default: .info)
        let environment = data.environment
        let dataURL = data.dataURL
        try FileManager.default.createDirectory(at: dataURL, withIntermediateDirectories: true)
        let masterKey = try data.masterKey()
        let tls = try TLSOptions.resolve(environment: environment, dataDirectory: dataURL)
        let demoFile = DemoCredentialsFile(dataDirectory: dataURL)
        // The flag wins; otherwise each service's own M365_*_HOST, then M365_HOST (read by the configs).
        let listenHost = host

        var apps: [Application] = []
        var lines: [String] = []
        // Where the desk's Microsoft 365 support app finds the Connector before its wizard is told otherwise.
        var connectorURL = environment.string("M365_APP_CONNECTOR_URL")
        do {
            if service == .all || service == .identity {
                var config = try IdentityConfig.load(
                    environment: environment, dataDirectory: dataURL, masterKey: masterKey, tls: tls.settings,
                    host: listenHost, port: identityPort)
                config.adminToken = try config.adminToken ?? AdminTokenFile.ensure(dataDirectory: dataURL)
                let identity = try await Self.makeApplication()
                apps.append(identity)
                try await configure(identity, config: config)
                try await identity.prepareIdentity()
                lines.append(Self.describe("Identity", config.endpoint, config.database))
                if !noDemo {
                    if let seeded = try await IdentityDemoSeed(admin: identity.directoryAdmin()).seedIfNeeded() {
                        try demoFile.write(section: "identity", seeded)
                    }
                    if let demo = try demoFile.section("identity", as: IdentityDemoSeed.Credentials.self) {
                        lines += DemoSummary.identity(demo, baseURL: config.endpoint.publicURL)
                    }
                }
            }
            if service == .all || service == .connector {
                var config = try ConnectorConfig.load(
                    environment: environment, dataDirectory: dataURL, tls: tls.settings, masterKey: masterKey,
                    host: listenHost, port: connectorPort, identityPort: identityPort)
                if config.supportTenant == nil, !noDemo, service == .all {
                    config.supportTenant = ConnectorRegistration.supportDomain
                }
                config.adminToken =
                    try config.adminToken
                    ?? AdminTokenFile.ensure(dataDirectory: dataURL, name: "connector-admin-token")
                let connector = try await Self.makeApplication()
                apps.append(connector)
                try await configure(connector, config: config)
                try await connector.prepareConnector()
                lines.append(Self.describe("Connector", config.endpoint, config.database))
                connectorURL = connectorURL ?? config.endpoint.publicURL
                let articles = try await ConnectorOperations(app: connector).refreshIndex()
                lines.append(
                    "Recommended solutions \(config.endpoint.publicURL)/\(ConnectorPath.recommendedSolutions)  "
                        + "(\(articles) articles; `m365-support kb import FILE.jsonl` adds more)")
                if !noDemo {
                    // The demo tenant is Identity's: registered here when Identity runs in this process.
                    if let identity = apps.first, service == .all {
                        let tenant = try await ConnectorRegistration.register(
                            admin: identity.directoryAdmin(), tenant: IdentityDemoSeed.tenantDomain, config: config)
                        let seeded = try await ConnectorDemoSeed(app: connector).seedIfNeeded(tenant: tenant)
                        try await ConnectorRegistration.ensureDirectoryAccess(
                            admin: identity.directoryAdmin(), tenant: tenant,
                            operations: ConnectorOperations(app: connector))
                        if let engineers = try await ConnectorRegistration.demoSupportTenant(
                            admin: identity.directoryAdmin(), operations: ConnectorOperations(app: connector),
                            config: config)
                        {
                            try demoFile.write(section: "console", engineers)
                        }
                        if let seeded {
                            let reader = try await ConnectorRegistration.demoClient(
                                admin: identity.directoryAdmin(), tenant: tenant.tenantId, config: config)
                            try demoFile.write(
                                section: "connector",
                                DemoSummary.ConnectorDemo(
                                    tenantId: tenant.tenantId, resource: config.resource, healthIssues: seeded.issues,
                                    client: reader))
                        }
                    }
                    if let demo = try demoFile.section("connector", as: DemoSummary.ConnectorDemo.self) {
                        lines += DemoSummary.connector(demo, baseURL: config.endpoint.publicURL)
                    }
                    if let engineers = try demoFile.section("console", as: [ConnectorRegistration.Engineer].self) {
                        lines.append(
                            "  Engineers' console \(config.endpoint.publicURL)/console  (sign in as "
                                + engineers.map(\.userPrincipalName).joined(separator: " or ")
                                + "; passwords in demo.json)")
                    }
                }
            }
            if service == .all || service == .desk {
                let config = try DeskConfig.load(
                    environment: environment, dataDirectory: dataURL, tls: tls.settings, masterKey: masterKey,
                    host: listenHost, port: deskPort)
                let desk = try await Self.makeApplication()
                apps.append(desk)
                try await configure(desk, config: config)
                try desk.install(M365SupportApp(defaultConnectorURL: connectorURL ?? "https://127.0.0.1:8444"))
                try await desk.prepareDesk()
                lines.append(Self.describe("ServiceDesk", config.endpoint, config.database))
                if !noDemo {
                    if let seeded = try await DeskDemoSeed(app: desk).seedIfNeeded() {
                        try demoFile.write(section: "desk", seeded)
                    }
                    if let demo = try demoFile.section("desk", as: DeskDemoSeed.Credentials.self) {
                        lines += DemoSummary.desk(demo, baseURL: config.endpoint.publicURL)
                    }
                }
            }
            if !noDemo { lines.append("All demo credentials: \(demoFile.url.path) (mode 0600)") }
            for app in apps {
                do {
                    try await app.startup()
                } catch let error as IOError where error.errnoCode == EADDRINUSE {
                    let address = "\(app.http.server.configuration.hostname):\(app.http.server.configuration.port)"
                    throw CommandFailure(
                        message: "\(address) is already in use. Stop what listens there or choose other ports "
                            + "(--identity-port, --connector-port, --desk-port or their M365_*_PORT variables).")
                }
            }
        } catch {
            for app in apps { try? await app.asyncShutdown() }
            throw error
        }

        var summary = ["", "m365-support is running. Ctrl-C stops it."] + lines.map { "  " + $0 }
        if let ca = tls.devCA {
            summary.append("  Development CA: \(ca.caCertificateFile.path)  (curl --cacert …, REQUESTS_CA_BUNDLE=…)")
        }
        // Written unbuffered, so the summary shows at once also when stdout is a pipe or a file.
        FileHandle.standardOutput.write(Data((summary + ["", ""]).joined(separator: "\n").utf8))

        for app in apps { try await app.running?.onStop.get() }
        for app in apps { try await app.drainAndShutdown() }
    }

    /// `Name  URL  (database: …)`, with the listen address when it differs from the public URL.
    static func describe(_ name: String, _ endpoint: ServiceEndpoint, _ database: DatabaseLocation) -> String {
        let listening = "\(endpoint.usesTLS ? "https" : "http")://\(endpoint.host):\(endpoint.port)"
        let address = listening == endpoint.publicURL ? listening : "\(endpoint.publicURL), listening on \(listening)"
        return name.padding(toLength: 13, withPad: " ", startingAt: 0)
            + "\(address)  (database: \(database.redactedDescription))"
    }

    static func makeApplication() async throws -> Application {
        let name = ProcessInfo.processInfo.environment["M365_ENV"] ?? "development"
        // Vapor must not parse our arguments: hand it only the program name, so it runs its default serve command.
        return try await Application.make(Environment(name: name, arguments: ["m365-support"]))
    }
}

/// The services' TLS: a certificate from `M365_TLS_CERT_FILE`/`M365_TLS_KEY_FILE`, else the development
/// certificate (created on first start), or none with `M365_TLS_DISABLED=true` (TLS ends at a load balancer).
struct TLSOptions {
    var settings: TLSSettings
    var devCA: DevCertificateAuthority?

    static func resolve(environment: EnvironmentReader, dataDirectory: URL) throws -> TLSOptions {
        let extraCAs = environment.string("M365_CA_BUNDLE").map { [URL(fileURLWithPath: $0)] } ?? []
        if try environment.bool("M365_TLS_DISABLED") == true {
            return TLSOptions(settings: TLSSettings(server: nil, trustedCAFiles: extraCAs), devCA: nil)
        }
        if let cert = environment.string("M365_TLS_CERT_FILE") {
            guard let key = environment.string("M365_TLS_KEY_FILE") else {
                throw ConfigurationError.missing(name: "M365_TLS_KEY_FILE", why: "M365_TLS_CERT_FILE is set")
            }
            return TLSOptions(
                settings: TLSSettings(
                    server: .init(
                        certificateFile: URL(fileURLWithPath: cert), privateKeyFile: URL(fileURLWithPath: key)),
                    trustedCAFiles: extraCAs),
                devCA: nil)
        }
        let ca = DevCertificateAuthority(dataDirectory: dataDirectory)
        try ca.ensure()
        return TLSOptions(settings: .development(ca, extraCAFiles: extraCAs), devCA: ca)
    }
}

/// Identity's admin API token when none is configured: generated once into `DATA/identity-admin-token` (0600).
enum AdminTokenFile {
    static func ensure(dataDirectory: URL, name: String = "identity-admin-token") throws -> String {
        let file = dataDirectory.appendingPathComponent(name)
        if let existing = try? String(contentsOf: file, encoding: .utf8).trimmingCharacters(
            in: .whitespacesAndNewlines),
            !existing.isEmpty
        {
            return existing
        }
        let token = RandomToken.urlSafe(byteCount: 32)
        try SecureFile.write(token + "\n", to: file, private: true)
        return token
    }
}

enum DemoSummary {
    struct ConnectorDemo: Codable {
        var tenantId: String
        var resource: String
        var healthIssues: Int
        var client: IdentityAdmin.App
    }

    static func connector(_ demo: ConnectorDemo, baseURL: String) -> [String] {
        [
            "Service health (Graph-compatible) \(baseURL)/v1.0/admin/serviceAnnouncement/issues  (\(demo.healthIssues) demo issues for contoso)",
            "  App \"\(demo.client.displayName)\": client ID \(demo.client.appId), secret in demo.json; "
                + "token for resource \(demo.resource) (roles \(ConnectorResource.Role.all.joined(separator: ", ")))",
            "  Admin API \(baseURL)/admin/api (bearer token in data/connector-admin-token)",
        ]
    }

    static func desk(_ demo: DeskDemoSeed.Credentials, baseURL: String) -> [String] {
        var lines = [
            "Web UI \(baseURL)/  (sign in as a user below; import the development CA into the browser, or accept its warning)",
            "Microsoft 365 support app: setup at \(baseURL)/x_mioms_m365_assis_setup.do (desk.admin), or "
                + "`m365-support demo configure --mode insights`; then the incident form's Microsoft 365 support tab",
            "Desk users (\(demo.incidents) demo incidents; Table API at \(baseURL)/api/now/table/incident)",
        ]
        for user in demo.users {
            let roles = user.roles.isEmpty ? "no roles" : user.roles.joined(separator: ", ")
            let web = user.webServiceAccessOnly ? ", web service access only" : ""
            lines.append("  \(user.userName) / \(user.password)  [\(roles)\(web)]")
        }
        for client in demo.oauthClients {
            lines.append(
                "  OAuth client \"\(client.name)\": client ID \(client.clientId), secret in demo.json (\(baseURL)/oauth_token.do)"
            )
        }
        return lines
    }

    static func identity(_ demo: IdentityDemoSeed.Credentials, baseURL: String) -> [String] {
        var lines = ["Demo tenant  \(demo.tenantDomain)  (tenant ID \(demo.tenantId))"]
        for user in demo.users {
            let roles = user.roles.isEmpty ? "user" : user.roles.joined(separator: ", ")
            lines.append("  \(user.userPrincipalName) / \(user.password)  [\(roles)]")
        }
        lines.append("  App \"\(demo.clientApp.displayName)\": client ID \(demo.clientApp.appId), secret in demo.json")
        lines.append(
            "  Try the sign-in page (it then redirects to \(demo.clientApp.redirectUris.first ?? "the app")): \(baseURL)/\(demo.tenantDomain)/oauth2/v2.0/authorize?client_id=\(demo.clientApp.appId)&response_type=code&scope=openid"
        )
        return lines
    }
}

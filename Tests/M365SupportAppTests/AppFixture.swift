import Connector
import Crypto
import Foundation
import Identity
import ServerSupport
import ServiceDesk
import TestSupport
import Vapor
import VaporTesting
import WireModels

@testable import M365SupportApp

/// The three services for the app's tests: Identity and the Connector listening on loopback HTTP (the desk calls
/// them for real, through its logged client), and a desk with the Microsoft 365 support app installed, tested
/// in-process. Contoso has the Connector's resource app, an outbound app registration holding both Connector
/// roles, demo service health and the starter knowledge base; its organization profile is empty until a test
/// registers the App ID, as the Microsoft 365 administrator would.
struct AppFixture {
    let desk: Application
    let identity: Application
    let connector: Application
    let identityURL: String
    let connectorURL: String
    let tenantId: String
    let outboundApp: IdentityAdmin.App
    let clock: TestClock
    /// Where the desk listens on loopback (for the Connector's deliveries), when the test asked for it.
    let deskListenURL: String?

    static let adminToken = "connector-admin-token-for-app-tests"
    static let deskURL = "http://desk.test"

    static func password(_ user: String) -> String { "Passw0rd!\(user)" }

    static func basic(_ user: String) -> HTTPHeaders {
        var headers = HTTPHeaders()
        headers.basicAuthorization = BasicAuthorization(username: user, password: password(user))
        return headers
    }

    var tokenURL: String { "\(identityURL)/\(tenantId)/oauth2/token" }

    /// Sets (or with nil clears) the App ID of contoso's organization profile, as the admin center does.
    func registerAppId(_ appId: String?) async throws {
        var headers = HTTPHeaders()
        headers.bearerAuthorization = BearerAuthorization(token: Self.adminToken)
        headers.contentType = .json
        let body = try JSONEncoder().encode(OrganizationProfileUpdate(supportTool: "ServiceNow", appId: appId ?? ""))
        let response = try await connector.testing().sendRequest(
            .PATCH, "/admin/api/tenants/\(tenantId)/profile", headers: headers, body: ByteBuffer(data: body))
        guard response.status == .ok else { throw TestFailure("profile not set: \(response.body.string)") }
    }

    /// A desk Table API call as `user`.
    func table(_ method: HTTPMethod, _ path: String, as user: String, json: [String: Any]? = nil) async throws
        -> TestingHTTPResponse
    {
        var headers = Self.basic(user)
        var body: ByteBuffer?
        if let json {
            headers.contentType = .json
            body = ByteBuffer(data: try JSONSerialization.data(withJSONObject: json))
        }
        return try await desk.testing().sendRequest(method, "/api/now/table/" + path, headers: headers, body: body)
    }

    /// A call of the app's setup API as the desk admin.
    func setup(_ method: HTTPMethod, _ path: String = "", json: [String: Any]? = nil) async throws
        -> TestingHTTPResponse
    {
        var headers = Self.basic("admin.user")
        var body: ByteBuffer?
        if let json {
            headers.contentType = .json
            body = ByteBuffer(data: try JSONSerialization.data(withJSONObject: json))
        }
        return try await desk.testing().sendRequest(
            method, "/api/x_mioms_m365_assis/v1/setup" + path, headers: headers, body: body)
    }

    /// Creates the outbound OAuth provider in the desk's Application Registry; returns its default profile.
    func createOutboundProvider(
        name: String = "Microsoft 365 support (outbound)", secret: String? = nil, tokenURL: String? = nil
    ) async throws -> String {
        let created = try await table(
            .POST, "oauth_entity", as: "admin.user",
            json: [
                "name": name, "type": "oauth_provider",
                "client_id": outboundApp.appId, "client_secret": secret ?? outboundApp.secret!,
                "token_url": tokenURL ?? self.tokenURL, "resource": ConnectorResource.defaultIdentifier,
                "default_grant_type": "client_credentials", "active": "true",
            ])
        guard let entity = created.json["result"]?["sys_id"] as? String else {
            throw TestFailure("no OAuth provider: \(created.body.string)")
        }
        let profiles = try await table(
            .GET, "oauth_entity_profile?sysparm_query=oauth_entity=\(entity)", as: "admin.user")
        guard let profile = (profiles.jsonArray.first)?["sys_id"] as? String else {
            throw TestFailure("no default profile: \(profiles.body.string)")
        }
        return profile
    }

    /// The whole insights-only setup through the setup API; registers the App ID first when `register`.
    func configureInsightsOnly(register: Bool = true) async throws -> String {
        let profile = try await createOutboundProvider()
        try await expectOK(try await setup(.POST, "/consent", json: [:]))
        try await expectOK(try await setup(.PUT, "/outbound", json: ["profile": profile]))
        try await expectOK(try await setup(.PUT, "/inbound", json: ["choice": "none"]))
        try await expectOK(try await setup(.PUT, "/repository", json: [:]))
        try await expectOK(try await setup(.PUT, "/settings", json: ["adminEmail": "admin@contoso.onmicrosoft.com"]))
        if register {
            try await registerAppId(outboundApp.appId)
            try await expectOK(try await setup(.POST, "/complete"))
        }
        return profile
    }

    func expectOK(_ response: TestingHTTPResponse) async throws {
        guard response.status == .ok else { throw TestFailure("\(response.status): \(response.body.string)") }
    }

    /// The `sys_id` of the demo incident whose short description is `short`.
    func incident(_ short: String) async throws -> String {
        let query = "short_description=\(short)".addingPercentEncoding(withAllowedCharacters: .urlQueryAllowed)!
        let found = try await table(.GET, "incident?sysparm_query=\(query)", as: "admin.user")
        guard let sysId = found.jsonArray.first?["sys_id"] as? String else {
            throw TestFailure("no incident \(short): \(found.body.string)")
        }
        return sysId
    }

    func signedIn(_ user: String) async throws -> WebBrowser {
        let browser = WebBrowser(desk)
        try await browser.signIn(user, password: Self.password(user))
        return browser
    }

    /// Stops the Connector's listener: the desk's calls to it are then refused.
    func stopConnector() async {
        await connector.server.shutdown()
    }
}

extension TestingHTTPResponse {
    var json: [String: [String: Any]] {
        ((try? JSONSerialization.jsonObject(with: Data(body.readableBytesView))) as? [String: Any])?
            .compactMapValues { $0 as? [String: Any] } ?? [:]
    }

    var jsonArray: [[String: Any]] {
        (((try? JSONSerialization.jsonObject(with: Data(body.readableBytesView))) as? [String: Any])?["result"]
            as? [[String: Any]]) ?? []
    }

    var errorMessage: String? {
        ((try? JSONSerialization.jsonObject(with: Data(body.readableBytesView))) as? [String: Any])
            .flatMap { ($0["error"] as? [String: Any])?["message"] as? String }
    }
}

func withApp(
    deskMiddleware: [any Middleware] = [], listeningDesk: Bool = false, deskDatabase: DatabaseLocation = .sqliteMemory,
    _ body: (AppFixture) async throws -> Void
) async throws {
    TestLogging.bootstrap()
    let clock = TestClock(Date())
    let identityPort = freeLoopbackPort()
    let connectorPort = freeLoopbackPort()
    let identityURL = "http://127.0.0.1:\(identityPort)"
    let connectorURL = "http://127.0.0.1:\(connectorPort)"
    let masterKey = MasterKey(key: SymmetricKey(size: .bits256))
    let identity = try await Application.make(.testing)
    let connector = try await Application.make(.testing)
    let desk = try await Application.make(.testing)
    func shutDown() async {
        // A shared PostgreSQL database is left as it was found.
        if case .postgres = deskDatabase { try? await desk.autoRevert() }
        await desk.server.shutdown()
        await connector.server.shutdown()
        await identity.server.shutdown()
        try? await desk.asyncShutdown()
        try? await connector.asyncShutdown()
        try? await identity.asyncShutdown()
    }
    do {
        try await Identity.configure(
            identity,
            config: IdentityConfig(
                endpoint: ServiceEndpoint(
                    host: "127.0.0.1", port: identityPort, usesTLS: false, publicURL: identityURL),
                database: .sqliteMemory, masterKey: masterKey, tls: nil, passwordCost: 4, now: clock.provider))
        try await identity.prepareIdentity()
        let admin = identity.directoryAdmin()
        let contoso = try await admin.createTenant(.init(name: "Contoso", domains: ["contoso.onmicrosoft.com"]))
        let resource = try await admin.createApp(
            tenant: contoso.id,
            .init(
                displayName: ConnectorResource.displayName, identifierUris: [ConnectorResource.defaultIdentifier],
                appRoles: ConnectorResource.Role.all, withSecret: false))
        let outbound = try await admin.createApp(tenant: contoso.id, .init(displayName: "ServiceNow outbound"))
        for role in ConnectorResource.Role.all {
            _ = try await admin.grant(
                tenant: contoso.id, client: outbound.appId,
                .init(resource: ConnectorResource.defaultIdentifier, role: role))
        }
        try await identity.server.start(address: .hostname("127.0.0.1", port: identityPort))

        var connectorConfig = ConnectorConfig(
            endpoint: ServiceEndpoint(host: "127.0.0.1", port: connectorPort, usesTLS: false, publicURL: connectorURL),
            database: .sqliteMemory, tls: nil, masterKey: masterKey, authority: identityURL,
            adminToken: AppFixture.adminToken, now: clock.provider)
        // The delivery tests send the outbox themselves, step by step.
        connectorConfig.deliversAtOnce = false
        try await Connector.configure(connector, config: connectorConfig)
        try await connector.prepareConnector()
        _ = try await ConnectorDemoSeed(app: connector).seedIfNeeded(
            tenant: ConnectorTenant(
                tenantId: contoso.id, displayName: "Contoso", domains: ["contoso.onmicrosoft.com"],
                resourceAppId: resource.appId))
        _ = try await ConnectorOperations(app: connector).refreshIndex()
        try await connector.server.start(address: .hostname("127.0.0.1", port: connectorPort))

        // A listening desk is its own public address: the Connector delivers there and the wizard names it.
        let deskPort = listeningDesk ? freeLoopbackPort() : 0
        let deskURL = listeningDesk ? "http://127.0.0.1:\(deskPort)" : AppFixture.deskURL
        try await ServiceDesk.configure(
            desk,
            config: DeskConfig(
                endpoint: ServiceEndpoint(host: "127.0.0.1", port: deskPort, usesTLS: false, publicURL: deskURL),
                database: deskDatabase, tls: nil, masterKey: masterKey, passwordCost: 4, now: clock.provider))
        for middleware in deskMiddleware { desk.middleware.use(middleware) }
        try desk.install(M365SupportApp(defaultConnectorURL: connectorURL))
        try await desk.prepareDesk()
        let directory = DeskDirectory(app: desk)
        for (name, roles) in [
            ("admin.user", ["admin"]), ("agent", ["itil", M365SupportScope.insightsUser]),
            ("m365.admin", ["itil", M365SupportScope.administrator]), ("plain.agent", ["itil"]),
        ] {
            try await directory.createUser(
                userName: name, firstName: name, lastName: "Test", email: "\(name)@example.com",
                password: AppFixture.password(name), roles: roles)
        }
        _ = try await DeskDemoSeed(app: desk).seedIfNeeded()
        var deskListenURL: String?
        if listeningDesk {
            try await desk.server.start(address: .hostname("127.0.0.1", port: deskPort))
            deskListenURL = deskURL
        }
        try await body(
            AppFixture(
                desk: desk, identity: identity, connector: connector, identityURL: identityURL,
                connectorURL: connectorURL, tenantId: contoso.id, outboundApp: outbound, clock: clock,
                deskListenURL: deskListenURL))
    } catch {
        await shutDown()
        throw error
    }
    await shutDown()
}

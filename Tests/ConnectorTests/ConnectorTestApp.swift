import Crypto
import Foundation
import Identity
import ServerSupport
import TestSupport
import Testing
import Vapor
import VaporTesting
import WireModels

@testable import Connector

/// A Connector tested in-process, with a real Identity listening on loopback HTTP as its token authority:
/// tenant `contoso` (served by the Connector, demo health imported) and `fabrikam` (not served).
struct ConnectorFixture {
    let connector: Application
    let identity: Application
    let identityURL: String
    let clock: TestClock
    let tenantId: String
    let otherTenantId: String
    /// The Connector's resource app in contoso.
    let resourceApp: IdentityAdmin.App
    /// Holds ServiceHealth.Read.All only.
    let healthReader: IdentityAdmin.App
    /// Holds SupportIntegration.ReadWrite only (the desk's outbound app).
    let deskApp: IdentityAdmin.App
    /// Holds no role on the Connector.
    let stranger: IdentityAdmin.App
    /// Holds ServiceHealth.Read.All in fabrikam.
    let fabrikamReader: IdentityAdmin.App
    /// A client app offering the profile permission for user sign-in, and users with and without admin roles.
    let users: [String: String]

    static let resource = ConnectorResource.defaultIdentifier
    static let adminToken = "connector-admin-token-for-tests"

    /// A v1 client-credentials token of `app` for `resource` in `tenant` (contoso by default).
    func token(_ app: IdentityAdmin.App, resource: String = resource, tenant: String? = nil) async throws -> String {
        let response = try await identity.testing().sendRequest(
            .POST, "/\(tenant ?? tenantId)/oauth2/token",
            headers: ["Content-Type": "application/x-www-form-urlencoded"],
            body: ByteBuffer(
                string: HTTPForm.encode([
                    "grant_type": "client_credentials", "client_id": app.appId, "client_secret": app.secret!,
                    "resource": resource,
                ])))
        let object = try JSONSerialization.jsonObject(with: Data(response.body.readableBytesView)) as? [String: Any]
        guard let token = object?["access_token"] as? String else {
            throw TestFailure("Identity gave no token: \(response.body.string)")
        }
        return token
    }

    /// A delegated token for the profile permission, signed in as `upn` through the authorization code flow
    /// with PKCE, as the profile page does it.
    func userToken(_ upn: String) async throws -> String {
        let verifier = "verifier-" + String(repeating: "x", count: 50)
        let challenge = Data(SHA256.hash(data: Data(verifier.utf8))).base64URLEncodedString()
        let redirect = "http://127.0.0.1/profile/signed-in"
        let query = [
            "client_id": resourceApp.appId, "response_type": "code", "redirect_uri": redirect,
            "scope": "\(Self.resource)/\(ConnectorResource.profileScope)", "state": "s",
            "code_challenge": challenge, "code_challenge_method": "S256",
        ]
        let path = IdentityPath.v2Authorize(tenant: tenantId)
        let page = try await identity.testing().sendRequest(.GET, path + "?" + HTTPForm.encode(query))
        guard let flowToken = page.body.string.firstMatch(of: /name="flow_token" value="([^"]+)"/)?.1,
            let cookie = page.headers.setCookie?["m365_identity_flow"]
        else { throw TestFailure("No sign-in form: \(page.body.string.prefix(300))") }
        var form = query
        form["login"] = upn
        form["passwd"] = users[upn]
        form["flow_token"] = String(flowToken)
        let signedIn = try await identity.testing().sendRequest(
            .POST, path,
            headers: [
                "Content-Type": "application/x-www-form-urlencoded", "Cookie": "m365_identity_flow=\(cookie.string)",
            ], body: ByteBuffer(string: HTTPForm.encode(form)))
        guard let location = signedIn.headers.first(name: .location),
            let code = HTTPForm.decode(String(location.split(separator: "?", maxSplits: 1).last ?? ""))["code"]
        else { throw TestFailure("No code: \(signedIn.status) \(signedIn.body.string.prefix(300))") }
        let tokens = try await identity.testing().sendRequest(
            .POST, IdentityPath.v2Token(tenant: tenantId),
            headers: ["Content-Type": "application/x-www-form-urlencoded"],
            body: ByteBuffer(
                string: HTTPForm.encode([
                    "grant_type": "authorization_code", "client_id": resourceApp.appId, "code": code,
                    "redirect_uri": redirect, "code_verifier": verifier,
                ])))
        let object = try JSONSerialization.jsonObject(with: Data(tokens.body.readableBytesView)) as? [String: Any]
        guard let token = object?["access_token"] as? String else {
            throw TestFailure("Identity gave no user token: \(tokens.body.string)")
        }
        return token
    }

    func get(_ path: String, token: String?, headers: HTTPHeaders = [:]) async throws -> TestingHTTPResponse {
        var headers = headers
        if let token { headers.bearerAuthorization = BearerAuthorization(token: token) }
        return try await connector.testing().sendRequest(.GET, path, headers: headers)
    }

    func send(_ method: HTTPMethod, _ path: String, token: String?, json: String? = nil) async throws
        -> TestingHTTPResponse
    {
        var headers: HTTPHeaders = [:]
        if let token { headers.bearerAuthorization = BearerAuthorization(token: token) }
        if json != nil { headers.contentType = .json }
        return try await connector.testing().sendRequest(
            method, path, headers: headers, body: json.map { ByteBuffer(string: $0) })
    }

    func admin(_ method: HTTPMethod, _ path: String, json: String? = nil) async throws -> TestingHTTPResponse {
        var headers: HTTPHeaders = [:]
        headers.bearerAuthorization = BearerAuthorization(token: Self.adminToken)
        if json != nil { headers.contentType = .json }
        return try await connector.testing().sendRequest(
            method, "/admin/api" + path, headers: headers, body: json.map { ByteBuffer(string: $0) })
    }
}

extension TestingHTTPResponse {
    var jsonObject: [String: Any] {
        (try? JSONSerialization.jsonObject(with: Data(body.readableBytesView)) as? [String: Any]) ?? [:]
    }
}

func withConnector(
    clock: TestClock = TestClock(Date()), database: DatabaseLocation = .sqliteMemory,
    configure change: (inout ConnectorConfig) -> Void = { _ in },
    _ body: (ConnectorFixture) async throws -> Void
) async throws {
    TestLogging.bootstrap()
    let port = freeLoopbackPort()
    let identityURL = "http://127.0.0.1:\(port)"
    let masterKey = MasterKey(key: SymmetricKey(size: .bits256))
    let identity = try await Application.make(.testing)
    let connector = try await Application.make(.testing)
    do {
        try await Identity.configure(
            identity,
            config: IdentityConfig(
                endpoint: ServiceEndpoint(host: "127.0.0.1", port: port, usesTLS: false, publicURL: identityURL),
                database: .sqliteMemory, masterKey: masterKey, tls: nil, passwordCost: 4, now: clock.provider))
        try await identity.prepareIdentity()
        let admin = identity.directoryAdmin()
        let contoso = try await admin.createTenant(.init(name: "Contoso", domains: ["contoso.onmicrosoft.com"]))
        let fabrikam = try await admin.createTenant(.init(name: "Fabrikam", domains: ["fabrikam.onmicrosoft.com"]))
        func resourceApp(_ tenant: String) async throws -> IdentityAdmin.App {
            let app = try await admin.createApp(
                tenant: tenant,
                .init(
                    displayName: ConnectorResource.displayName,
                    redirectUris: ["http://127.0.0.1/profile/signed-in"], identifierUris: [ConnectorFixture.resource],
                    appRoles: ConnectorResource.Role.all, withSecret: false,
                    exposedScopes: [.init(value: ConnectorResource.profileScope, adminConsentRequired: true)]))
            _ = try await admin.grantConsent(
                tenant: tenant, client: app.appId,
                .init(resource: ConnectorFixture.resource, scopes: [ConnectorResource.profileScope]))
            return app
        }
        func client(_ tenant: String, _ name: String, roles: [String]) async throws -> IdentityAdmin.App {
            let app = try await admin.createApp(tenant: tenant, .init(displayName: name))
            for role in roles {
                _ = try await admin.grant(
                    tenant: tenant, client: app.appId, .init(resource: ConnectorFixture.resource, role: role))
            }
            return app
        }
        let resource = try await resourceApp(contoso.id)
        _ = try await resourceApp(fabrikam.id)
        let reader = try await client(contoso.id, "Health reader", roles: [ConnectorResource.Role.serviceHealthRead])
        let desk = try await client(contoso.id, "Desk outbound", roles: [ConnectorResource.Role.supportIntegration])
        let stranger = try await client(contoso.id, "Stranger", roles: [])
        let fabrikamReader = try await client(
            fabrikam.id, "Fabrikam reader", roles: [ConnectorResource.Role.serviceHealthRead])
        var users: [String: String] = [:]
        for (name, role) in [
            ("admin", DirectoryRoleTemplate.globalAdministrator), ("support", .serviceSupportAdministrator),
            ("user", nil),
        ] as [(String, DirectoryRoleTemplate?)] {
            let upn = "\(name)@contoso.onmicrosoft.com"
            let password = "Pa55word-\(name)-\(UUID().uuidString.prefix(8))"
            _ = try await admin.createUser(
                tenant: contoso.id, .init(userPrincipalName: upn, displayName: name, password: password))
            if let role { _ = try await admin.assignRole(tenant: contoso.id, user: upn, role: role.templateId) }
            users[upn] = password
        }
        try await identity.server.start(address: .hostname("127.0.0.1", port: port))

        var config = ConnectorConfig(
            endpoint: ServiceEndpoint(host: "127.0.0.1", port: 0, usesTLS: false, publicURL: "https://connector.test"),
            database: database, tls: nil, masterKey: masterKey, authority: identityURL,
            adminToken: ConnectorFixture.adminToken, now: clock.provider)
        config.deliversAtOnce = false
        change(&config)
        try await Connector.configure(connector, config: config)
        try await connector.prepareConnector()
        let tenant = ConnectorTenant(
            tenantId: contoso.id, displayName: "Contoso", domains: ["contoso.onmicrosoft.com"],
            resourceAppId: resource.appId)
        _ = try await ConnectorDemoSeed(app: connector).seedIfNeeded(tenant: tenant)
        try await body(
            ConnectorFixture(
                connector: connector, identity: identity, identityURL: identityURL, clock: clock, tenantId: contoso.id,
                otherTenantId: fabrikam.id, resourceApp: resource, healthReader: reader, deskApp: desk,
                stranger: stranger, fabrikamReader: fabrikamReader, users: users))
    } catch {
        try? await connector.autoRevert()
        try? await connector.asyncShutdown()
        await identity.server.shutdown()
        try? await identity.asyncShutdown()
        throw error
    }
    try await connector.autoRevert()
    try await connector.asyncShutdown()
    await identity.server.shutdown()
    try await identity.asyncShutdown()
}

import Crypto
import Foundation
import Identity
import ServerSupport
import TestSupport
import Vapor
import VaporTesting
import WireModels

/// A real Identity listening on loopback HTTP, for the desk's outbound calls (OIDC metadata, keys, tokens).
struct RunningIdentity {
    let app: Application
    let baseURL: String
    let tenantId: String
    /// The "REST user" app: asks for tokens (client credentials).
    let restUser: IdentityAdmin.App
    /// The "REST API" app: the tokens' audience, the desk's OIDC entity's client ID.
    let restAPI: IdentityAdmin.App
    /// Another resource the REST user may get tokens for (a wrong audience for the desk).
    let otherAPI: IdentityAdmin.App

    var v1MetadataURL: String { "\(baseURL)/\(tenantId)/.well-known/openid-configuration" }
    var v2MetadataURL: String { "\(baseURL)/\(tenantId)/v2.0/.well-known/openid-configuration" }
    var v1TokenURL: String { "\(baseURL)/\(tenantId)/oauth2/token" }

    /// A v1 client-credentials token of the REST user for `resource`.
    func token(resource: String, clientSecret: String? = nil) async throws -> String {
        let response = try await app.testing().sendRequest(
            .POST, "/\(tenantId)/oauth2/token", headers: ["Content-Type": "application/x-www-form-urlencoded"],
            body: ByteBuffer(
                string: HTTPForm.encode([
                    "grant_type": "client_credentials", "client_id": restUser.appId,
                    "client_secret": clientSecret ?? restUser.secret!, "resource": resource,
                ])))
        let object = try JSONSerialization.jsonObject(with: Data(response.body.readableBytesView)) as? [String: Any]
        guard let token = object?["access_token"] as? String else {
            throw TestFailure("Identity gave no token: \(response.body.string)")
        }
        return token
    }
}

func withRunningIdentity(clock: TestClock, _ body: (RunningIdentity) async throws -> Void) async throws {
    TestLogging.bootstrap()
    let port = freeLoopbackPort()
    let baseURL = "http://127.0.0.1:\(port)"
    let app = try await Application.make(.testing)
    do {
        try await Identity.configure(
            app,
            config: IdentityConfig(
                endpoint: ServiceEndpoint(host: "127.0.0.1", port: port, usesTLS: false, publicURL: baseURL),
                database: .sqliteMemory, masterKey: MasterKey(key: SymmetricKey(size: .bits256)), tls: nil,
                passwordCost: 4, now: clock.provider))
        try await app.prepareIdentity()
        let admin = app.directoryAdmin()
        let tenant = try await admin.createTenant(.init(name: "Contoso", domains: ["contoso.onmicrosoft.com"]))
        let restUser = try await admin.createApp(tenant: tenant.id, .init(displayName: "ServiceNow REST user"))
        let restAPI = try await admin.createApp(
            tenant: tenant.id,
            .init(displayName: "ServiceNow REST API", appRoles: ["Incidents.Write"], withSecret: false))
        let otherAPI = try await admin.createApp(
            tenant: tenant.id, .init(displayName: "Other API", appRoles: ["Other.Read"], withSecret: false))
        _ = try await admin.grant(
            tenant: tenant.id, client: restUser.appId, .init(resource: restAPI.appId, role: "Incidents.Write"))
        _ = try await admin.grant(
            tenant: tenant.id, client: restUser.appId, .init(resource: otherAPI.appId, role: "Other.Read"))
        try await app.server.start(address: .hostname("127.0.0.1", port: port))
        try await body(
            RunningIdentity(
                app: app, baseURL: baseURL, tenantId: tenant.id, restUser: restUser, restAPI: restAPI,
                otherAPI: otherAPI))
    } catch {
        await app.server.shutdown()
        try? await app.asyncShutdown()
        throw error
    }
    await app.server.shutdown()
    try await app.asyncShutdown()
}

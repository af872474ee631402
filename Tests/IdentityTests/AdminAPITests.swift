import Foundation
import ServerSupport
import TestSupport
import Testing
import Vapor
import VaporTesting
import WireModels

@testable import Identity

@Suite("Admin API and secret hygiene")
struct AdminAPITests {
    let auth: HTTPHeaders = ["Authorization": "Bearer test-admin-token", "Content-Type": "application/json"]

    func post(_ app: Application, _ path: String, _ body: some Encodable, headers: HTTPHeaders? = nil) async throws
        -> TestingHTTPResponse
    {
        try await app.testing().sendRequest(
            .POST, path, headers: headers ?? auth, body: ByteBuffer(data: try JSONEncoder().encode(body)))
    }

    @Test func refusesMalformedJSONAndUnsafeRedirectURIs() async throws {
        try await withIdentity { app, fx in
            let trailing = try await app.testing().sendRequest(
                .POST, "/admin/api/tenants", headers: auth,
                body: ByteBuffer(string: #"{"name":"Northwind","domains":["northwind.onmicrosoft.com"],}"#))
            #expect(trailing.status == .badRequest)
            #expect(try trailing.json(ProblemDetails.self).detail?.contains("comma") == true)
            for uri in [
                "https://client.test/\tcb", "https://client.test/cb#frag", "javascript:alert(1)", "/relative",
                "https://client.test/a b", "https:///nohost", "https://client.test\\@evil.test/",
            ] {
                let res = try await post(
                    app, "/admin/api/tenants/\(fx.tenantId)/apps",
                    IdentityAdmin.CreateApp(displayName: "x", redirectUris: [uri]))
                #expect(res.status == .badRequest, "\(uri)")
            }
            let native = try await post(
                app, "/admin/api/tenants/\(fx.tenantId)/apps",
                IdentityAdmin.CreateApp(
                    displayName: "x", redirectUris: ["http://localhost:8765/callback", "msal1234://auth"]))
            #expect(native.status == .created)
        }
    }

    @Test func requiresTheAdminToken() async throws {
        try await withIdentity { app, _ in
            let res = try await app.get("/admin/api/tenants", headers: ["Authorization": "Bearer nope"])
            #expect(res.status == .unauthorized)
            #expect(res.headers.contentType?.description.contains("problem+json") == true)
            let problem = try res.json(ProblemDetails.self)
            #expect(problem.status == 401)
            #expect(problem.correlationId != nil)
        }
    }

    @Test func createsATenantWithUsersAppsSecretsAndGrantsThatWork() async throws {
        try await withIdentity { app, _ in
            let tenant = try
                (try await post(
                    app, "/admin/api/tenants",
                    IdentityAdmin.CreateTenant(name: "Northwind", domains: ["northwind.onmicrosoft.com"])))
                .json(IdentityAdmin.Tenant.self)
            let user = try await post(
                app, "/admin/api/tenants/northwind.onmicrosoft.com/users",
                IdentityAdmin.CreateUser(userPrincipalName: "ops@northwind.onmicrosoft.com", displayName: "Ops"))
            #expect(user.status == .created)
            #expect(try user.json(IdentityAdmin.User.self).password?.count == 20)
            let role = try await post(
                app, "/admin/api/tenants/\(tenant.id)/users/ops@northwind.onmicrosoft.com/roles",
                IdentityAdmin.AssignRole(role: "Global Administrator"))
            #expect(try role.json(IdentityAdmin.User.self).roles == ["Global Administrator"])

            let created = try
                (try await post(
                    app, "/admin/api/tenants/\(tenant.id)/apps", IdentityAdmin.CreateApp(displayName: "Reader")))
                .json(IdentityAdmin.App.self)
            #expect(created.identifierUris == ["api://\(created.appId)"])
            let secret = try
                (try await post(
                    app, "/admin/api/tenants/\(tenant.id)/apps/\(created.appId)/secrets",
                    IdentityAdmin.AddSecret(days: 30)))
                .json(IdentityAdmin.Secret.self)
            #expect(secret.secret.count == 40 && secret.secret.dropFirst(3).hasPrefix("8Q~"))
            let grant = try await post(
                app, "/admin/api/tenants/\(tenant.id)/apps/\(created.appId)/grants",
                IdentityAdmin.GrantAppRole(resource: "https://graph.microsoft.com", role: "Directory.Read.All"))
            #expect(grant.status == .created)

            for value in [created.secret!, secret.secret] {
                let token = try await app.postForm(
                    IdentityPath.v2Token(tenant: "northwind.onmicrosoft.com"),
                    [
                        "grant_type": "client_credentials", "client_id": created.appId, "client_secret": value,
                        "scope": "https://graph.microsoft.com/.default",
                    ])
                #expect(token.status == .ok)
            }
        }
    }

    @Test func badInputIsAProblemNotACrash() async throws {
        try await withIdentity { app, fx in
            let cases: [(String, String)] = [
                ("/admin/api/tenants", #"{"name":"","domains":[]}"#),
                ("/admin/api/tenants", #"{"name":"X","domains":["fabrikam.onmicrosoft.com"]}"#),
                ("/admin/api/tenants", "not json"),
                (
                    "/admin/api/tenants/\(fx.tenantId)/users",
                    #"{"userPrincipalName":"x@elsewhere.com","displayName":"X"}"#
                ),
                ("/admin/api/tenants/\(fx.tenantId)/users/\(fx.userId)/roles", #"{"role":"Emperor"}"#),
                (
                    "/admin/api/tenants/\(fx.tenantId)/apps/\(fx.client.appId)/grants",
                    #"{"resource":"https://graph.microsoft.com","role":"Nope.All"}"#
                ),
                ("/admin/api/tenants/nope.example/apps", #"{"displayName":"X"}"#),
            ]
            for (path, body) in cases {
                let res = try await app.testing().sendRequest(
                    .POST, path, headers: auth, body: ByteBuffer(string: body))
                #expect((400..<500).contains(res.status.code), "\(path) \(body) → \(res.status)")
                #expect(try res.json(ProblemDetails.self).detail?.isEmpty == false)
            }
        }
    }

    @Test func secretsPasswordsAndTokensNeverReachTheLogs() async throws {
        try await withIdentity { app, fx in
            let ok = try await app.postForm(
                fx.v1TokenPath,
                [
                    "grant_type": "client_credentials", "client_id": fx.client.appId, "client_secret": fx.clientSecret,
                    "resource": fx.api.appId,
                ])
            let token = try ok.json(TokenResponseV1.self).accessToken
            let wrongSecret = "Wr0ng" + RandomToken.urlSafe(byteCount: 12)
            _ = try await app.postForm(
                fx.v1TokenPath,
                [
                    "grant_type": "client_credentials", "client_id": fx.client.appId, "client_secret": wrongSecret,
                    "resource": fx.api.appId,
                ])
            var headers = HTTPHeaders()
            headers.basicAuthorization = BasicAuthorization(username: fx.client.appId, password: fx.clientSecret)
            _ = try await app.postForm(
                fx.v2TokenPath, ["grant_type": "client_credentials", "scope": "bad"], headers: headers)
            let logs = TestLogging.capture.text
            #expect(logs.contains(fx.client.appId))
            for secret in [fx.clientSecret, wrongSecret, token, fx.userPassword] {
                #expect(!logs.contains(secret))
            }
        }
    }
}

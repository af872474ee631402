import Foundation
import Testing
import Vapor
import VaporTesting
import WireModels

@testable import Identity

@Suite("Graph-compatible directory read")
struct GraphDirectoryTests {
    func graphToken(_ app: Application, _ fx: IdentityFixture, resource: String = "https://graph.microsoft.com")
        async throws -> String
    {
        let res = try await app.postForm(
            fx.v1TokenPath,
            [
                "grant_type": "client_credentials", "client_id": fx.client.appId, "client_secret": fx.clientSecret,
                "resource": resource,
            ])
        return try res.json(TokenResponseV1.self).accessToken
    }

    @Test func userAndMemberOfByUPNAndId() async throws {
        try await withIdentity { app, fx in
            let headers: HTTPHeaders = ["Authorization": "Bearer \(try await graphToken(app, fx))"]
            let byUPN = try await app.get("/v1.0/users/\(fx.userUPN)", headers: headers)
            #expect(byUPN.status == .ok)
            let user = try byUPN.json(GraphUser.self)
            #expect(user.id == fx.userId)
            #expect(user.displayName == "Adele Vance")
            #expect(try await app.get("/v1.0/users/\(fx.userId)", headers: headers).json(GraphUser.self) == user)
            // The Graph SDK sends `/v1.0//users/…` when its base URL ends in a slash.
            #expect(try await app.get("/v1.0//users/\(fx.userId)", headers: headers).status == .ok)
            #expect(try await app.get("//v1.0/users/\(fx.userId)", headers: headers).status == .ok)

            let roles = try (try await app.get("/v1.0/users/\(fx.userId)/memberOf", headers: headers))
                .json(GraphCollection<GraphDirectoryRole>.self)
            #expect(roles.value.map(\.roleTemplateId) == [DirectoryRoleTemplate.serviceSupportAdministrator.templateId])
            #expect(roles.value.first?.odataType == "#microsoft.graph.directoryRole")
        }
    }

    @Test func missingWrongOrUnderprivilegedTokensAreRefusedInGraphShape() async throws {
        try await withIdentity { app, fx in
            let none = try await app.get("/v1.0/users/\(fx.userUPN)")
            #expect(none.status == .unauthorized)
            #expect(try none.json(GraphErrorBody.self).error.code == "InvalidAuthenticationToken")

            let apiToken = try await graphToken(app, fx, resource: fx.api.appId)
            let wrongAudience = try await app.get(
                "/v1.0/users/\(fx.userUPN)", headers: ["Authorization": "Bearer \(apiToken)"])
            #expect(wrongAudience.status == .unauthorized)

            let tampered = try await graphToken(app, fx).dropLast(4) + "AAAA"
            let bad = try await app.get("/v1.0/users/\(fx.userUPN)", headers: ["Authorization": "Bearer \(tampered)"])
            #expect(bad.status == .unauthorized)

            let admin = app.directoryAdmin()
            let other = try await admin.createApp(tenant: fx.tenantId, .init(displayName: "No roles"))
            let res = try await app.postForm(
                fx.v1TokenPath,
                [
                    "grant_type": "client_credentials", "client_id": other.appId, "client_secret": other.secret!,
                    "resource": "https://graph.microsoft.com",
                ])
            let noRole = try await app.get(
                "/v1.0/users/\(fx.userUPN)",
                headers: ["Authorization": "Bearer \(try res.json(TokenResponseV1.self).accessToken)"])
            #expect(noRole.status == .forbidden)
            #expect(try noRole.json(GraphErrorBody.self).error.code == "Authorization_RequestDenied")
        }
    }

    @Test func expiredTokensAndUnknownUsers() async throws {
        try await withIdentity { app, fx in
            let token = try await graphToken(app, fx)
            let missing = try await app.get(
                "/v1.0/users/nobody@\(IdentityFixture.domain)", headers: ["Authorization": "Bearer \(token)"])
            #expect(missing.status == .notFound)
            #expect(try missing.json(GraphErrorBody.self).error.code == "Request_ResourceNotFound")
            fx.clock.advance(by: 3599 + 301)
            let expired = try await app.get("/v1.0/users/\(fx.userUPN)", headers: ["Authorization": "Bearer \(token)"])
            #expect(expired.status == .unauthorized)
        }
    }
}

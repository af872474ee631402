import Crypto
import Fluent
import Foundation
import ServerSupport
import TestSupport
import Vapor
import VaporTesting
import WireModels

@testable import Identity

/// A tenant with a user, a confidential client app and two resource apps (v1 and v2 tokens).
struct IdentityFixture {
    static let baseURL = "https://identity.test"
    static let domain = "fabrikam.onmicrosoft.com"
    static let redirectURI = "https://client.test/callback"

    let tenantId: String
    let client: IdentityAdmin.App
    let api: IdentityAdmin.App
    let apiV2: IdentityAdmin.App
    let userUPN: String
    let userPassword: String
    let userId: String
    let clock: TestClock

    var clientSecret: String { client.secret! }
    var v1TokenPath: String { IdentityPath.v1Token(tenant: Self.domain) }
    var v2TokenPath: String { IdentityPath.v2Token(tenant: tenantId) }
    var v1Issuer: String { "\(Self.baseURL)/\(tenantId)/" }
    var v2Issuer: String { "\(Self.baseURL)/\(tenantId)/v2.0" }
}

func identityConfig(database: DatabaseLocation = .sqliteMemory, clock: TestClock, masterKey: MasterKey? = nil)
    -> IdentityConfig
{
    IdentityConfig(
        endpoint: ServiceEndpoint(host: "127.0.0.1", port: 0, usesTLS: true, publicURL: IdentityFixture.baseURL),
        database: database, masterKey: masterKey ?? MasterKey(key: SymmetricKey(size: .bits256)), tls: nil,
        adminToken: "test-admin-token", passwordCost: 4, now: clock.provider)
}

/// Runs `body` against a fresh Identity on in-memory SQLite (or `database`), seeded with ``IdentityFixture``.
func withIdentity(
    database: DatabaseLocation = .sqliteMemory, clock: TestClock = TestClock(),
    _ body: (Application, IdentityFixture) async throws -> Void
) async throws {
    try await withTestApp(
        setUp: { app in
            try await configure(app, config: identityConfig(database: database, clock: clock))
            try await app.prepareIdentity()
            return try await seedFixture(app, clock: clock)
        }, body)
}

private func seedFixture(_ app: Application, clock: TestClock) async throws -> IdentityFixture {
    let admin = app.directoryAdmin()
    let tenant = try await admin.createTenant(
        .init(name: "Fabrikam", domains: [IdentityFixture.domain, "fabrikam.com"]))
    let password = RandomToken.password()
    let user = try await admin.createUser(
        tenant: tenant.id,
        .init(userPrincipalName: "adele@\(IdentityFixture.domain)", displayName: "Adele Vance", password: password))
    _ = try await admin.assignRole(tenant: tenant.id, user: user.id, role: "Service Support Administrator")
    let api = try await admin.createApp(
        tenant: tenant.id,
        .init(
            displayName: "REST API", appRoles: ["Tickets.Read"], withSecret: false,
            exposedScopes: [
                .init(value: "Tickets.Read", adminConsentRequired: false),
                .init(value: "Tickets.ReadWrite.All", adminConsentRequired: true),
            ]))
    let client = try await admin.createApp(
        tenant: tenant.id,
        .init(
            displayName: "Outbound", redirectUris: [IdentityFixture.redirectURI],
            requiredResourceAccess: [
                .init(resource: MicrosoftGraphResource.identifierURI, scopes: ["User.Read"]),
                .init(resource: api.appId, scopes: ["Tickets.Read"]),
            ]))
    // An administrator consented to what the client requires, as the tenant's admin does in the portal.
    for resource in [MicrosoftGraphResource.identifierURI, api.appId] {
        _ = try await admin.grantConsent(tenant: tenant.id, client: client.appId, .init(resource: resource))
    }
    let apiV2 = try await admin.createApp(
        tenant: tenant.id, .init(displayName: "Modern API", accessTokenVersion: 2, withSecret: false))
    _ = try await admin.grant(tenant: tenant.id, client: client.appId, .init(resource: api.appId, role: "Tickets.Read"))
    _ = try await admin.grant(
        tenant: tenant.id, client: client.appId,
        .init(resource: MicrosoftGraphResource.identifierURI, role: MicrosoftGraphResource.Role.directoryReadAll))
    return IdentityFixture(
        tenantId: tenant.id, client: client, api: api, apiV2: apiV2, userUPN: user.userPrincipalName,
        userPassword: password, userId: user.id, clock: clock)
}

extension Application {
    func postForm(_ path: String, _ fields: [String: String], headers: HTTPHeaders = [:]) async throws
        -> TestingHTTPResponse
    {
        var headers = headers
        headers.contentType = .urlEncodedForm
        return try await testing().sendRequest(
            .POST, path, headers: headers, body: ByteBuffer(string: HTTPForm.encode(fields)))
    }

    func get(_ path: String, headers: HTTPHeaders = [:]) async throws -> TestingHTTPResponse {
        try await testing().sendRequest(.GET, path, headers: headers)
    }
}

extension TestingHTTPResponse {
    func json<T: Decodable>(_ type: T.Type) throws -> T {
        try JSONDecoder.iso8601.decode(T.self, from: Data(body.readableBytesView))
    }

    var entraError: EntraErrorBody? { try? json(EntraErrorBody.self) }
}

/// Decodes a JWT's header and claims without verifying (verification tests use JWTKit).
func decodeJWT(_ token: String) throws -> (header: [String: String], claims: TokenClaims) {
    let parts = token.split(separator: ".")
    let header = try JSONDecoder().decode([String: String].self, from: Data(base64URLEncoded: parts[0])!)
    let claims = try JSONDecoder().decode(TokenClaims.self, from: Data(base64URLEncoded: parts[1])!)
    return (header, claims)
}

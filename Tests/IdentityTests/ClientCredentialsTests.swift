import Foundation
import Testing
import Vapor
import VaporTesting
import WireModels

@testable import Identity

@Suite("Client credentials grant")
struct ClientCredentialsTests {
    @Test func v1TokenForAResourceCarriesV1ClaimsAndStringNumbers() async throws {
        try await withIdentity { app, fx in
            let res = try await app.postForm(
                fx.v1TokenPath,
                [
                    "grant_type": "client_credentials", "client_id": fx.client.appId, "client_secret": fx.clientSecret,
                    "resource": "api://\(fx.api.appId)",
                ])
            #expect(res.status == .ok)
            let raw = try JSONSerialization.jsonObject(with: Data(res.body.readableBytesView)) as! [String: Any]
            #expect(raw["expires_in"] as? String == "3599")
            #expect(raw["ext_expires_in"] as? String == "3599")
            #expect(raw["expires_on"] as? String == String(Int(fx.clock.now.timeIntervalSince1970) + 3599))
            #expect(raw["resource"] as? String == "api://\(fx.api.appId)")
            #expect(raw["token_type"] as? String == "Bearer")
            let body = try res.json(TokenResponseV1.self)
            let (header, claims) = try decodeJWT(body.accessToken)
            #expect(header["alg"] == "RS256")
            #expect(header["kid"] != nil && header["x5t"] == header["kid"])
            #expect(claims.aud == "api://\(fx.api.appId)")
            #expect(claims.iss == fx.v1Issuer)
            #expect(claims.appid == fx.client.appId)
            #expect(claims.appidacr == "1")
            #expect(claims.azp == nil)
            #expect(claims.tid == fx.tenantId)
            #expect(claims.oid == fx.client.servicePrincipalId)
            #expect(claims.sub == claims.oid)
            #expect(claims.roles == ["Tickets.Read"])
            #expect(claims.ver == "1.0")
            #expect(claims.idtyp == "app")
            #expect(claims.iat == Int(fx.clock.now.timeIntervalSince1970))
            #expect(claims.exp == claims.iat! + 3599)
            #expect(res.headers.first(name: .cacheControl)?.contains("no-store") == true)
        }
    }

    @Test func v2EndpointWithDefaultScopeAndBasicAuthGivesNumericFields() async throws {
        try await withIdentity { app, fx in
            var headers = HTTPHeaders()
            headers.basicAuthorization = BasicAuthorization(username: fx.client.appId, password: fx.clientSecret)
            let res = try await app.postForm(
                fx.v2TokenPath,
                ["grant_type": "client_credentials", "scope": "\(fx.apiV2.appId)/.default", "client_info": "1"],
                headers: headers)
            #expect(res.status == .ok)
            let raw = try JSONSerialization.jsonObject(with: Data(res.body.readableBytesView)) as! [String: Any]
            #expect(raw["expires_in"] as? Int == 3599)
            #expect(raw["refresh_token"] == nil)
            let (header, claims) = try decodeJWT(try res.json(TokenResponseV2.self).accessToken)
            #expect(header["x5t"] == nil)
            #expect(claims.ver == "2.0")
            #expect(claims.iss == fx.v2Issuer)
            #expect(claims.aud == fx.apiV2.appId)
            #expect(claims.azp == fx.client.appId)
            #expect(claims.azpacr == "1")
            #expect(claims.appid == nil)
            #expect(claims.roles == nil)
        }
    }

    @Test func tokenVersionFollowsTheResourceNotTheEndpoint() async throws {
        try await withIdentity { app, fx in
            let res = try await app.postForm(
                fx.v2TokenPath,
                [
                    "grant_type": "client_credentials", "client_id": fx.client.appId, "client_secret": fx.clientSecret,
                    "scope": "https://graph.microsoft.com/.default",
                ])
            #expect(res.status == .ok)
            let (_, claims) = try decodeJWT(try res.json(TokenResponseV2.self).accessToken)
            #expect(claims.ver == "1.0")
            #expect(claims.iss == fx.v1Issuer)
            #expect(claims.aud == "https://graph.microsoft.com")
            #expect(claims.roles == ["Directory.Read.All"])
        }
    }

    @Test func tenantDomainAndGuidBothSelectTheTenant() async throws {
        try await withIdentity { app, fx in
            for tenant in [fx.tenantId, IdentityFixture.domain, "fabrikam.com"] {
                let res = try await app.postForm(
                    IdentityPath.v1Token(tenant: tenant),
                    [
                        "grant_type": "client_credentials", "client_id": fx.client.appId,
                        "client_secret": fx.clientSecret, "resource": fx.api.appId,
                    ])
                #expect(res.status == .ok, "tenant \(tenant)")
            }
        }
    }

    @Test(
        arguments: [
            (
                ["grant_type": "client_credentials", "client_id": "C", "client_secret": "S", "resource": "R"],
                "unknown.example", 90002, "invalid_request", 400
            ),
            (
                [
                    "grant_type": "client_credentials", "client_id": "00000000-0000-0000-0000-00000000abcd",
                    "client_secret": "S", "resource": "R",
                ], nil, 700016, "unauthorized_client", 400
            ),
            (
                ["grant_type": "client_credentials", "client_id": "C", "client_secret": "wrong", "resource": "R"], nil,
                7000215, "invalid_client", 401
            ),
            (
                ["grant_type": "client_credentials", "client_id": "C", "resource": "R"], nil, 7000218, "invalid_client",
                401
            ),
            (["client_id": "C", "client_secret": "S", "resource": "R"], nil, 900144, "invalid_request", 400),
            (
                ["grant_type": "client_credentials", "client_id": "C", "client_secret": "S"], nil, 900144,
                "invalid_request", 400
            ),
            (
                ["grant_type": "password", "client_id": "C", "client_secret": "S", "resource": "R"], nil, 70003,
                "unsupported_grant_type", 400
            ),
            (
                [
                    "grant_type": "client_credentials", "client_id": "C", "client_secret": "S",
                    "resource": "api://nothing-here",
                ], nil, 500011, "invalid_resource", 400
            ),
        ] as [([String: String], String?, Int, String, UInt)])
    func v1FailuresUseEntraCodes(form: [String: String], tenant: String?, code: Int, error: String, status: UInt)
        async throws
    {
        try await withIdentity { app, fx in
            let fields = form.mapValues { value in
                switch value {
                case "C": fx.client.appId
                case "S": fx.clientSecret
                case "R": fx.api.appId
                default: value
                }
            }
            let res = try await app.postForm(IdentityPath.v1Token(tenant: tenant ?? IdentityFixture.domain), fields)
            #expect(res.status.code == status)
            let body = try #require(res.entraError)
            #expect(body.errorCodes == [code])
            #expect(body.error == error)
            #expect(body.errorDescription.hasPrefix("AADSTS\(code): "))
            #expect(
                body.errorDescription.contains("\r\nTrace ID: \(body.traceId)\r\nCorrelation ID: \(body.correlationId)")
            )
            #expect(body.timestamp.wholeMatch(of: /\d{4}-\d\d-\d\d \d\d:\d\d:\d\dZ/) != nil)
            #expect(!body.errorDescription.contains(fx.clientSecret))
        }
    }

    @Test(arguments: [
        ("C/.default C2/.default", 70011, "invalid_scope"),
        ("C/read", 1002012, "invalid_scope"),
        ("api://unknown-api/.default", 500011, "invalid_resource"),
    ])
    func v2ScopeFailuresUseEntraCodes(scope: String, code: Int, error: String) async throws {
        try await withIdentity { app, fx in
            let res = try await app.postForm(
                fx.v2TokenPath,
                [
                    "grant_type": "client_credentials", "client_id": fx.client.appId, "client_secret": fx.clientSecret,
                    "scope": scope.replacingOccurrences(of: "C2", with: fx.apiV2.appId).replacingOccurrences(
                        of: "C", with: fx.api.appId),
                ])
            #expect(res.status == .badRequest)
            #expect(res.entraError?.errorCodes == [code])
            #expect(res.entraError?.error == error)
        }
    }

    @Test func resourceParameterOnV2IsRefused() async throws {
        try await withIdentity { app, fx in
            let res = try await app.postForm(
                fx.v2TokenPath,
                [
                    "grant_type": "client_credentials", "client_id": fx.client.appId, "client_secret": fx.clientSecret,
                    "resource": fx.api.appId, "scope": "\(fx.api.appId)/.default",
                ])
            #expect(res.entraError?.errorCodes == [901002])
        }
    }

    @Test func expiredSecretIsReportedAsExpired() async throws {
        try await withIdentity { app, fx in
            fx.clock.advance(by: 181 * 86400)
            let res = try await app.postForm(
                fx.v1TokenPath,
                [
                    "grant_type": "client_credentials", "client_id": fx.client.appId, "client_secret": fx.clientSecret,
                    "resource": fx.api.appId,
                ])
            #expect(res.status == .unauthorized)
            #expect(res.entraError?.errorCodes == [7000222])
        }
    }

    @Test func secretIdInsteadOfValueIsAWrongSecret() async throws {
        try await withIdentity { app, fx in
            let res = try await app.postForm(
                fx.v1TokenPath,
                [
                    "grant_type": "client_credentials", "client_id": fx.client.appId,
                    "client_secret": fx.client.secretId!,
                    "resource": fx.api.appId,
                ])
            #expect(res.entraError?.errorCodes == [7000215])
        }
    }

    @Test func roleAssignmentRequiredResourceRefusesUngrantedClients() async throws {
        try await withIdentity { app, fx in
            let admin = app.directoryAdmin()
            let locked = try await admin.createApp(
                tenant: fx.tenantId,
                .init(displayName: "Locked API", appRoles: ["X"], appRoleAssignmentRequired: true, withSecret: false))
            let res = try await app.postForm(
                fx.v1TokenPath,
                [
                    "grant_type": "client_credentials", "client_id": fx.client.appId, "client_secret": fx.clientSecret,
                    "resource": locked.appId,
                ])
            #expect(res.entraError?.errorCodes == [501051])
            _ = try await admin.grant(
                tenant: fx.tenantId, client: fx.client.appId, .init(resource: locked.appId, role: "X"))
            let granted = try await app.postForm(
                fx.v1TokenPath,
                [
                    "grant_type": "client_credentials", "client_id": fx.client.appId, "client_secret": fx.clientSecret,
                    "resource": locked.appId,
                ])
            #expect(granted.status == .ok)
        }
    }

    @Test func wrongMethodAndMalformedBodiesGetEntraShapedAnswers() async throws {
        try await withIdentity { app, fx in
            let get = try await app.get(fx.v1TokenPath)
            #expect(get.status == .methodNotAllowed)
            #expect(get.entraError?.errorCodes == [900561])

            let json = try await app.testing().sendRequest(
                .POST, fx.v1TokenPath, headers: ["Content-Type": "application/json"],
                body: ByteBuffer(string: #"{"grant_type":"client_credentials"}"#))
            #expect(json.status == .badRequest)
            #expect(json.entraError?.errorCodes == [900144])

            let garbage = try await app.testing().sendRequest(
                .POST, fx.v1TokenPath, headers: ["Content-Type": "application/x-www-form-urlencoded"],
                body: ByteBuffer(bytes: [0xff, 0xfe, 0x00, 0x3d, 0x26, 0x25, 0x5b]))
            #expect(garbage.status == .badRequest)
            #expect(garbage.entraError != nil)

            let unknown = try await app.get("/\(fx.tenantId)/nothing/here")
            #expect(unknown.status == .notFound)
            #expect(unknown.entraError != nil)
        }
    }

    @Test func clientRequestIdBecomesTheCorrelationId() async throws {
        try await withIdentity { app, fx in
            let id = UUID().uuidString.lowercased()
            let res = try await app.postForm(
                fx.v1TokenPath, ["grant_type": "client_credentials", "client_id": fx.client.appId],
                headers: ["client-request-id": id])
            #expect(res.entraError?.correlationId == id)
            #expect(res.headers.first(name: "client-request-id") == id)
        }
    }

    @Test func anotherProcesssChangesShowAfterTheDirectoryCacheLifetime() async throws {
        try await withIdentity { app, fx in
            let warm = try await app.postForm(
                fx.v1TokenPath,
                [
                    "grant_type": "client_credentials", "client_id": fx.client.appId, "client_secret": fx.clientSecret,
                    "resource": fx.api.appId,
                ])
            #expect(warm.status == .ok)
            // As the CLI does: same database, no access to the server's cache.
            let elsewhere = DirectoryAdmin(database: app.db, now: fx.clock.provider) { try Bcrypt.hash($0, cost: 4) }
            let added = try await elsewhere.createApp(tenant: fx.tenantId, .init(displayName: "Added by the CLI"))
            let form = [
                "grant_type": "client_credentials", "client_id": added.appId, "client_secret": added.secret!,
                "resource": fx.api.appId,
            ]
            #expect(try await app.postForm(fx.v1TokenPath, form).entraError?.errorCodes == [700016])
            fx.clock.advance(by: 5)
            #expect(try await app.postForm(fx.v1TokenPath, form).status == .ok)
        }
    }
}

@Suite("Hostile input")
struct HostileInputTests {
    @Test func randomBodiesAndQueriesGetEntraShapedClientErrors() async throws {
        try await withIdentity { app, fx in
            var generator = SystemRandomNumberGenerator()
            let alphabet = Array("abc=&%+_-.~/:?#[]@!$'()*,;\u{00}\u{7f}é😀0123456789ABCDEF ".utf8)
            for round in 0..<150 {
                let length = Int.random(in: 0...300, using: &generator)
                let bytes = (0..<length).map { _ in
                    round.isMultiple(of: 2)
                        ? UInt8.random(in: 0...255, using: &generator) : alphabet.randomElement(using: &generator)!
                }
                let token = try await app.testing().sendRequest(
                    .POST, fx.v2TokenPath, headers: ["Content-Type": "application/x-www-form-urlencoded"],
                    body: ByteBuffer(bytes: bytes))
                #expect((400..<500).contains(token.status.code), "token body \(bytes)")
                #expect(token.entraError != nil)
            }
            let tenants = ["%00", "..", String(repeating: "a", count: 5000), "x%2F..%2Fy", "😀", "'; DROP TABLE x;--"]
            for tenant in tenants {
                for path in [IdentityPath.v2Token(tenant: tenant), IdentityPath.v1Discovery(tenant: tenant)] {
                    let res = try await app.testing().sendRequest(
                        path.hasSuffix("token") ? .POST : .GET, path,
                        headers: ["Content-Type": "application/x-www-form-urlencoded"],
                        body: ByteBuffer(string: "grant_type=client_credentials&client_id=x&client_secret=y&scope=z"))
                    #expect((400..<500).contains(res.status.code), "\(path) → \(res.status)")
                    #expect(res.entraError != nil)
                }
            }
            let authorize: [(String, HTTPResponseStatus)] = [
                ("client_id=%zz", .badRequest),
                ("client_id=\(fx.client.appId)&redirect_uri=%", .badRequest),
                (
                    "client_id=\(fx.client.appId)&response_type=code&scope=" + String(repeating: "a/", count: 500),
                    .seeOther
                ),
            ]
            for (query, status) in authorize {
                let res = try await app.get(IdentityPath.v2Authorize(tenant: fx.tenantId) + "?" + query)
                #expect(res.status == status, "authorize \(query)")
            }
        }
    }
}

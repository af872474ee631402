import Foundation
import JWTKit
import Testing
import Vapor
import VaporTesting
import WireModels

@testable import Identity

@Suite("Discovery documents, JWKS and key rotation")
struct DiscoveryAndKeysTests {
    @Test func unknownKeyIDsCostAtMostOneReReadOfTheKeysPerSecond() async throws {
        try await withIdentity { app, fx in
            let header = Data(#"{"alg":"RS256","typ":"JWT","kid":"no-such-key"}"#.utf8).base64URLEncodedString()
            let claims = Data(#"{"aud":"https://graph.microsoft.com","tid":"x"}"#.utf8).base64URLEncodedString()
            let forged = "\(header).\(claims).c2lnbmF0dXJl"
            _ = try await app.get("/v1.0/users/\(fx.userUPN)", headers: ["Authorization": "Bearer \(forged)"])
            let before = app.identity.keyRing.reloadCount
            for _ in 0..<50 {
                let res = try await app.get(
                    "/v1.0/users/\(fx.userUPN)", headers: ["Authorization": "Bearer \(forged)"])
                #expect(res.status == .unauthorized)
            }
            #expect(app.identity.keyRing.reloadCount == before)
            fx.clock.advance(by: 1.5)
            for _ in 0..<50 {
                _ = try await app.get("/v1.0/users/\(fx.userUPN)", headers: ["Authorization": "Bearer \(forged)"])
            }
            #expect(app.identity.keyRing.reloadCount == before + 1)
        }
    }

    @Test func v1AndV2DocumentsAdvertiseTheTenantsEndpoints() async throws {
        try await withIdentity { app, fx in
            let v1 = try await app.get(IdentityPath.v1Discovery(tenant: IdentityFixture.domain))
            #expect(v1.status == .ok)
            let doc1 = try v1.json(OpenIDConfiguration.self)
            #expect(doc1.issuer == fx.v1Issuer)
            #expect(doc1.tokenEndpoint == "\(IdentityFixture.baseURL)/\(fx.tenantId)/oauth2/token")
            #expect(doc1.jwksUri == "\(IdentityFixture.baseURL)/common/discovery/keys")
            #expect(doc1.idTokenSigningAlgValuesSupported == ["RS256"])
            #expect(v1.headers.first(name: .cacheControl) == "max-age=86400, private")

            let v2 = try await app.get(IdentityPath.v2Discovery(tenant: fx.tenantId))
            let doc2 = try v2.json(OpenIDConfiguration.self)
            #expect(doc2.issuer == fx.v2Issuer)
            #expect(doc2.tokenEndpoint == "\(IdentityFixture.baseURL)/\(fx.tenantId)/oauth2/v2.0/token")
            #expect(doc2.authorizationEndpoint == "\(IdentityFixture.baseURL)/\(fx.tenantId)/oauth2/v2.0/authorize")
            #expect(doc2.jwksUri == "\(IdentityFixture.baseURL)/\(fx.tenantId)/discovery/v2.0/keys")
            #expect(doc2.scopesSupported.contains("offline_access"))
            #expect(doc2.codeChallengeMethodsSupported.contains("S256"))
        }
    }

    @Test func commonDocumentsUseTheTemplatedIssuer() async throws {
        try await withIdentity { app, _ in
            let doc = try (try await app.get(IdentityPath.v2Discovery(tenant: "common"))).json(OpenIDConfiguration.self)
            #expect(doc.issuer == "\(IdentityFixture.baseURL)/{tenantid}/v2.0")
            let keys = try (try await app.get(IdentityPath.v2Keys(tenant: "common"))).json(JSONWebKeySet.self)
            #expect(keys.keys.first?.issuer == "\(IdentityFixture.baseURL)/{tenantid}/v2.0")
            let v1Keys = try await app.get(IdentityPath.v1Keys(tenant: "common"))
            #expect(v1Keys.status == .ok)
        }
    }

    @Test func unknownTenantDiscoveryIsAADSTS90002() async throws {
        try await withIdentity { app, _ in
            for path in [
                IdentityPath.v1Discovery(tenant: "nobody.example"), IdentityPath.v2Keys(tenant: UUID().uuidString),
            ] {
                let res = try await app.get(path)
                #expect(res.status == .badRequest)
                #expect(res.entraError?.errorCodes == [90002])
            }
        }
    }

    @Test func tokensVerifyAgainstThePublishedJWKSWithJWTKit() async throws {
        try await withIdentity { app, fx in
            let token = try await clientCredentialsToken(app, fx)
            let jwks = try await app.get(IdentityPath.v2Keys(tenant: fx.tenantId)).body.string
            let keys = try await JWTKeyCollection().add(jwksJSON: jwks)
            let payload = try await keys.verify(token, as: AppTokenPayload.self)
            #expect(payload.appid == fx.client.appId)
            let jwk = try #require(try JSONDecoder().decode(JSONWebKeySet.self, from: Data(jwks.utf8)).keys.first)
            #expect(jwk.kty == "RSA" && jwk.use == "sig" && jwk.e == "AQAB" && jwk.x5c.count == 1)
        }
    }

    @Test func rotationSignsWithTheNewKeyAndKeepsTheOldOneUntilItsTokensExpire() async throws {
        try await withIdentity { app, fx in
            let before = try await clientCredentialsToken(app, fx)
            let oldKid = try decodeJWT(before).header["kid"]!

            let rotated = try await app.testing().sendRequest(
                .POST, "/admin/api/keys/rotate", headers: ["Authorization": "Bearer test-admin-token"])
            #expect(rotated.status == .ok)
            let after = try await clientCredentialsToken(app, fx)
            let newKid = try decodeJWT(after).header["kid"]!
            #expect(newKid != oldKid)

            let published = try await publishedKids(app)
            #expect(published.contains(oldKid) && published.contains(newKid))
            let keys = try await JWTKeyCollection().add(
                jwksJSON: try await app.get(IdentityPath.v1Keys(tenant: "common")).body.string)
            _ = try await keys.verify(before, as: AppTokenPayload.self)
            _ = try await keys.verify(after, as: AppTokenPayload.self)

            fx.clock.advance(by: 3599 + 301)
            let later = try await publishedKids(app)
            #expect(!later.contains(oldKid))
            #expect(later.contains(newKid))
        }
    }

    @Test func anotherInstancesRotationIsPublishedWithinASecondAndUsedWithinTheRefreshInterval() async throws {
        try await withIdentity { app, fx in
            let first = try decodeJWT(try await clientCredentialsToken(app, fx)).header["kid"]!
            let otherInstance = SigningKeyRing(
                masterKey: app.identity.config.masterKey, now: fx.clock.provider, retiredKeyGrace: 3899)
            let rotated = try await otherInstance.rotate(on: app.db)
            fx.clock.advance(by: 1)
            #expect(try await publishedKids(app) == [first, rotated.kid])
            fx.clock.advance(by: 30)
            let second = try decodeJWT(try await clientCredentialsToken(app, fx)).header["kid"]!
            #expect(second == rotated.kid)
        }
    }

    func clientCredentialsToken(_ app: Application, _ fx: IdentityFixture) async throws -> String {
        let res = try await app.postForm(
            fx.v1TokenPath,
            [
                "grant_type": "client_credentials", "client_id": fx.client.appId, "client_secret": fx.clientSecret,
                "resource": fx.api.appId,
            ])
        return try res.json(TokenResponseV1.self).accessToken
    }

    func publishedKids(_ app: Application) async throws -> Set<String> {
        let keys = try (try await app.get(IdentityPath.v1Keys(tenant: "common"))).json(JSONWebKeySet.self)
        return Set(keys.keys.map(\.kid))
    }
}

struct AppTokenPayload: JWTPayload {
    var appid: String?
    var exp: ExpirationClaim

    func verify(using algorithm: some JWTAlgorithm) async throws {}
}

@Suite("Token claims JSON")
struct TokenClaimsJSONTests {
    @Test func directWriterAgreesWithCodable() throws {
        var claims = TokenClaims()
        claims.aud = "api://x/"
        claims.iss = "https://127.0.0.1:8443/t/"
        claims.iat = 1_790_000_000
        claims.nbf = 1_790_000_000
        claims.exp = 1_790_003_599
        claims.amr = ["pwd"]
        claims.appid = "a"
        claims.name = "Zoë \"Q\" O'Brien\\\n\t\u{01}😀"
        claims.preferredUsername = "zoe@contoso.onmicrosoft.com"
        claims.roles = ["A", "B"]
        claims.wids = []
        claims.ver = "1.0"
        let direct = try JSONDecoder().decode(TokenClaims.self, from: Data(claims.jsonBytes()))
        #expect(direct == claims)
        let object = try JSONSerialization.jsonObject(with: Data(claims.jsonBytes())) as? [String: Any]
        #expect(object?["preferred_username"] as? String == "zoe@contoso.onmicrosoft.com")
        #expect(object?["scp"] == nil)
        #expect(TokenClaims().jsonBytes() == Array("{}".utf8))
    }
}

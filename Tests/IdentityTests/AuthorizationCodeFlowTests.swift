import Crypto
import Foundation
import ServerSupport
import TestSupport
import Testing
import Vapor
import VaporTesting
import WireModels

@testable import Identity

@Suite("Authorization code grant with PKCE")
struct AuthorizationCodeFlowTests {
    static let verifier = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"
    static var challenge: String { Data(SHA256.hash(data: Data(verifier.utf8))).base64URLEncodedString() }

    struct SignIn {
        var location: String
        var fields: [String: String]
    }

    func authorizeQuery(_ fx: IdentityFixture, scope: String, extra: [String: String] = [:]) -> [String: String] {
        [
            "client_id": fx.client.appId, "response_type": "code", "redirect_uri": IdentityFixture.redirectURI,
            "scope": scope, "state": "state-123", "nonce": "nonce-456", "code_challenge": Self.challenge,
            "code_challenge_method": "S256",
        ].merging(extra) { $1 }
    }

    /// Opens the sign-in page, submits the user's credentials, and returns the redirect.
    func signIn(
        _ app: Application, _ fx: IdentityFixture, query: [String: String], password: String? = nil,
        path: String? = nil
    ) async throws -> TestingHTTPResponse {
        let path = path ?? IdentityPath.v2Authorize(tenant: IdentityFixture.domain)
        let page = try await app.get(path + "?" + HTTPForm.encode(query))
        #expect(page.status == .ok)
        let html = page.body.string
        #expect(html.contains("<form method=\"post\""))
        #expect(html.contains("<label for=\"passwd\">"))
        let flowToken = try #require(html.firstMatch(of: /name="flow_token" value="([^"]+)"/)?.1)
        let cookie = try #require(page.headers.setCookie?["m365_identity_flow"])
        #expect(cookie.isHTTPOnly)
        var form = query
        form["login"] = fx.userUPN
        form["passwd"] = password ?? fx.userPassword
        form["flow_token"] = String(flowToken)
        return try await app.postForm(path, form, headers: ["Cookie": "m365_identity_flow=\(cookie.string)"])
    }

    func code(from response: TestingHTTPResponse) throws -> String {
        let location = try #require(response.headers.first(name: .location))
        #expect(location.hasPrefix(IdentityFixture.redirectURI + "?"))
        let fields = HTTPForm.decode(String(location.split(separator: "?", maxSplits: 1)[1]))
        #expect(fields["state"] == "state-123")
        return try #require(fields["code"])
    }

    func redeem(_ app: Application, _ fx: IdentityFixture, code: String, verifier: String = verifier) async throws
        -> TestingHTTPResponse
    {
        try await app.postForm(
            fx.v2TokenPath,
            [
                "grant_type": "authorization_code", "client_id": fx.client.appId, "client_secret": fx.clientSecret,
                "code": code, "redirect_uri": IdentityFixture.redirectURI, "code_verifier": verifier,
            ])
    }

    @Test func signInRedeemAndRefresh() async throws {
        try await withIdentity { app, fx in
            let scope = "openid profile offline_access api://\(fx.api.appId)/Tickets.Read"
            let redirect = try await signIn(app, fx, query: authorizeQuery(fx, scope: scope))
            #expect(redirect.status == .seeOther || redirect.status == .found)
            let res = try await redeem(app, fx, code: try code(from: redirect))
            #expect(res.status == .ok)
            let tokens = try res.json(TokenResponseV2.self)
            let (_, access) = try decodeJWT(tokens.accessToken)
            #expect(access.aud == "api://\(fx.api.appId)")
            #expect(access.scp == "Tickets.Read")
            #expect(access.oid == fx.userId)
            #expect(access.upn == fx.userUPN)
            #expect(access.wids == [DirectoryRoleTemplate.serviceSupportAdministrator.templateId])
            #expect(access.appid == fx.client.appId)
            let (_, id) = try decodeJWT(try #require(tokens.idToken))
            #expect(id.aud == fx.client.appId)
            #expect(id.nonce == "nonce-456")
            #expect(id.iss == fx.v2Issuer)
            #expect(id.preferredUsername == fx.userUPN)
            #expect(id.name == "Adele Vance")
            let refresh = try #require(tokens.refreshToken)

            let renewed = try await app.postForm(
                fx.v2TokenPath,
                [
                    "grant_type": "refresh_token", "client_id": fx.client.appId, "client_secret": fx.clientSecret,
                    "refresh_token": refresh, "scope": "https://graph.microsoft.com/User.Read offline_access",
                ])
            #expect(renewed.status == .ok)
            let renewedTokens = try renewed.json(TokenResponseV2.self)
            #expect(try decodeJWT(renewedTokens.accessToken).claims.aud == "https://graph.microsoft.com")
            #expect(renewedTokens.refreshToken != nil && renewedTokens.refreshToken != refresh)

            let reused = try await app.postForm(
                fx.v2TokenPath,
                [
                    "grant_type": "refresh_token", "client_id": fx.client.appId, "client_secret": fx.clientSecret,
                    "refresh_token": refresh,
                ])
            #expect(reused.entraError?.errorCodes == [70008])
        }
    }

    @Test func aCodeCanBeRedeemedOnlyOnce() async throws {
        try await withIdentity { app, fx in
            let code = try code(from: try await signIn(app, fx, query: authorizeQuery(fx, scope: "openid")))
            #expect(try await redeem(app, fx, code: code).status == .ok)
            let again = try await redeem(app, fx, code: code)
            #expect(again.status == .badRequest)
            #expect(again.entraError?.errorCodes == [54005])
            #expect(again.entraError?.error == "invalid_grant")
        }
    }

    @Test func wrongVerifierIsAPKCEMismatch() async throws {
        try await withIdentity { app, fx in
            let code = try code(from: try await signIn(app, fx, query: authorizeQuery(fx, scope: "openid")))
            let res = try await redeem(app, fx, code: code, verifier: String(repeating: "x", count: 43))
            #expect(res.entraError?.errorCodes == [50148])
        }
    }

    @Test func unknownAndExpiredCodesAreInvalidGrants() async throws {
        try await withIdentity { app, fx in
            #expect(try await redeem(app, fx, code: "not-a-code").entraError?.errorCodes == [70008])
            let code = try code(from: try await signIn(app, fx, query: authorizeQuery(fx, scope: "openid")))
            fx.clock.advance(by: 601)
            #expect(try await redeem(app, fx, code: code).entraError?.errorCodes == [70008])
        }
    }

    @Test func redirectURIMustMatchTheRegistrationExactly() async throws {
        try await withIdentity { app, fx in
            for uri in [
                IdentityFixture.redirectURI + "/", "https://evil.test/callback",
                IdentityFixture.redirectURI.uppercased(),
            ] {
                let query = authorizeQuery(fx, scope: "openid", extra: ["redirect_uri": uri])
                let page = try await app.get(
                    IdentityPath.v2Authorize(tenant: fx.tenantId) + "?" + HTTPForm.encode(query))
                #expect(page.status == .badRequest)
                #expect(page.headers.first(name: .location) == nil)
                #expect(page.body.string.contains("AADSTS50011"))
            }
            let code = try code(from: try await signIn(app, fx, query: authorizeQuery(fx, scope: "openid")))
            let res = try await app.postForm(
                fx.v2TokenPath,
                [
                    "grant_type": "authorization_code", "client_id": fx.client.appId, "client_secret": fx.clientSecret,
                    "code": code, "redirect_uri": "https://client.test/other", "code_verifier": Self.verifier,
                ])
            #expect(res.entraError?.errorCodes == [50011])
        }
    }

    @Test func wrongPasswordShowsTheFormAgainWithoutACode() async throws {
        try await withIdentity { app, fx in
            let res = try await signIn(app, fx, query: authorizeQuery(fx, scope: "openid"), password: "wrong-password")
            #expect(res.status == .ok)
            #expect(res.headers.first(name: .location) == nil)
            #expect(res.body.string.contains("Your account or password is incorrect."))
            #expect(res.body.string.contains("role=\"alert\""))
        }
    }

    @Test func repeatedWrongPasswordsLockTheSignInBeforeAnyHash() async throws {
        try await withIdentity { app, fx in
            for _ in 0..<SignInThrottle.Limits.standard.perUser {
                let res = try await signIn(app, fx, query: authorizeQuery(fx, scope: "openid"), password: "wrong")
                #expect(res.body.string.contains("Your account or password is incorrect."))
            }
            let locked = try await signIn(app, fx, query: authorizeQuery(fx, scope: "openid"))
            #expect(locked.status == .tooManyRequests)
            #expect(locked.headers.first(name: .location) == nil)
            #expect(locked.headers.first(name: .retryAfter) != nil)
            #expect(locked.body.string.contains("Your account is locked"))
        }
    }

    @Test func aPasswordWithANULAfterTheRightOneIsWrong() async throws {
        try await withIdentity { app, fx in
            let res = try await signIn(
                app, fx, query: authorizeQuery(fx, scope: "openid"), password: fx.userPassword + "\u{0}anything")
            #expect(res.headers.first(name: .location) == nil)
            #expect(res.body.string.contains("Your account or password is incorrect."))
        }
    }

    @Test func submitWithoutTheFlowCookieIsRefused() async throws {
        try await withIdentity { app, fx in
            var form = authorizeQuery(fx, scope: "openid")
            form["login"] = fx.userUPN
            form["passwd"] = fx.userPassword
            form["flow_token"] = "forged"
            let res = try await app.postForm(IdentityPath.v2Authorize(tenant: IdentityFixture.domain), form)
            #expect(res.headers.first(name: .location) == nil)
            #expect(res.body.string.contains("session expired"))
        }
    }

    @Test func unknownClientAndTenantShowAnErrorPage() async throws {
        try await withIdentity { app, fx in
            var query = authorizeQuery(fx, scope: "openid")
            query["client_id"] = UUID().uuidString
            let unknownClient = try await app.get(
                IdentityPath.v2Authorize(tenant: fx.tenantId) + "?" + HTTPForm.encode(query))
            #expect(unknownClient.body.string.contains("AADSTS700016"))
            let unknownTenant = try await app.get(
                IdentityPath.v2Authorize(tenant: "nope.example") + "?" + HTTPForm.encode(query))
            #expect(unknownTenant.body.string.contains("AADSTS90002"))
        }
    }

    @Test func unsupportedResponseTypeGoesBackToTheClient() async throws {
        try await withIdentity { app, fx in
            let query = authorizeQuery(fx, scope: "openid", extra: ["response_type": "token"])
            let res = try await app.get(IdentityPath.v2Authorize(tenant: fx.tenantId) + "?" + HTTPForm.encode(query))
            let location = try #require(res.headers.first(name: .location))
            let fields = HTTPForm.decode(String(location.split(separator: "?")[1]))
            #expect(fields["error"] == "unsupported_response_type")
            #expect(fields["state"] == "state-123")
        }
    }

    @Test func v1AuthorizeUsesResourceAndGivesV1Responses() async throws {
        try await withIdentity { app, fx in
            var query = authorizeQuery(fx, scope: "openid")
            query["resource"] = fx.api.appId
            let redirect = try await signIn(app, fx, query: query, path: IdentityPath.v1Authorize(tenant: fx.tenantId))
            let res = try await app.postForm(
                fx.v1TokenPath,
                [
                    "grant_type": "authorization_code", "client_id": fx.client.appId, "client_secret": fx.clientSecret,
                    "code": try code(from: redirect), "redirect_uri": IdentityFixture.redirectURI,
                    "code_verifier": Self.verifier,
                ])
            #expect(res.status == .ok)
            let body = try res.json(TokenResponseV1.self)
            #expect(body.resource == fx.api.appId)
            #expect(body.refreshToken != nil)
            let (_, id) = try decodeJWT(try #require(body.idToken))
            #expect(id.ver == "1.0")
            #expect(id.upn == fx.userUPN)
        }
    }

    @Test func disabledUsersCannotSignIn() async throws {
        try await withIdentity { app, fx in
            let user = try #require(try await DirectoryUser.find(UUID(uuidString: fx.userId), on: app.db))
            user.accountEnabled = false
            try await user.save(on: app.db)
            let res = try await signIn(app, fx, query: authorizeQuery(fx, scope: "openid"))
            #expect(res.headers.first(name: .location) == nil)
            #expect(res.body.string.contains("locked"))
        }
    }

    @Test func userInfoDescribesTheSignedInUserWithTheIDTokensSubject() async throws {
        try await withIdentity { app, fx in
            let code = try code(
                from: try await signIn(app, fx, query: authorizeQuery(fx, scope: "openid profile email")))
            let tokens = try (try await redeem(app, fx, code: code)).json(TokenResponseV2.self)
            let idToken = try decodeJWT(try #require(tokens.idToken)).claims
            let info = try await app.get(
                IdentityPath.userInfo(tenant: fx.tenantId), headers: ["Authorization": "Bearer \(tokens.accessToken)"])
            #expect(info.status == .ok)
            let body = try info.json([String: String].self)
            #expect(body["sub"] == idToken.sub)
            #expect(body["preferred_username"] == fx.userUPN)
            #expect(body["name"] == "Adele Vance")

            let appOnly = try
                (try await app.postForm(
                    fx.v1TokenPath,
                    [
                        "grant_type": "client_credentials", "client_id": fx.client.appId,
                        "client_secret": fx.clientSecret,
                        "resource": "https://graph.microsoft.com",
                    ])).json(TokenResponseV1.self).accessToken
            let refused = try await app.get(
                IdentityPath.userInfo(tenant: fx.tenantId), headers: ["Authorization": "Bearer \(appOnly)"])
            #expect(refused.status == .unauthorized)
            #expect(refused.headers.first(name: .wwwAuthenticate) == "Bearer error=\"insufficient_scope\"")
            #expect(try await app.get(IdentityPath.userInfo(tenant: fx.tenantId)).status == .unauthorized)
        }
    }

    @Test func logoutReturnsOnlyToRegisteredRedirectURIs() async throws {
        try await withIdentity { app, fx in
            let back = try await app.get(
                IdentityPath.v2Logout(tenant: fx.tenantId) + "?"
                    + HTTPForm.encode([
                        "post_logout_redirect_uri": IdentityFixture.redirectURI, "state": "s1",
                    ]))
            #expect(back.headers.first(name: .location) == IdentityFixture.redirectURI + "?state=s1")
            let elsewhere = try await app.get(
                IdentityPath.v2Logout(tenant: fx.tenantId) + "?post_logout_redirect_uri=https%3A%2F%2Fevil.test%2F")
            #expect(elsewhere.status == .ok)
            #expect(elsewhere.headers.first(name: .location) == nil)
            #expect(elsewhere.body.string.contains("You signed out"))
        }
    }
}

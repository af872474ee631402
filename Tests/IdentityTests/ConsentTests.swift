import Crypto
import Foundation
import ServerSupport
import TestSupport
import Testing
import Vapor
import VaporTesting
import WireModels

@testable import Identity

/// Entra's permission model: tokens carry only consented permissions; users consent for themselves to what
/// needs no administrator; a Global Administrator consents for the organization; a refresh never widens.
@Suite("Delegated permissions and consent")
struct ConsentTests {
    static let verifier = AuthorizationCodeFlowTests.verifier
    static let flows = AuthorizationCodeFlowTests()

    /// A client without any consent yet, public (no secret) unless `confidential`.
    func newClient(_ app: Application, _ fx: IdentityFixture, confidential: Bool = false) async throws
        -> IdentityAdmin.App
    {
        try await app.directoryAdmin().createApp(
            tenant: fx.tenantId,
            .init(
                displayName: "Desk add-in", redirectUris: [IdentityFixture.redirectURI], withSecret: confidential,
                requiredResourceAccess: [
                    .init(resource: MicrosoftGraphResource.identifierURI, scopes: ["User.Read", "Directory.Read.All"])
                ]))
    }

    func query(_ client: IdentityAdmin.App, scope: String, extra: [String: String] = [:]) -> [String: String] {
        [
            "client_id": client.appId, "response_type": "code", "redirect_uri": IdentityFixture.redirectURI,
            "scope": scope, "state": "st", "code_challenge": AuthorizationCodeFlowTests.challenge,
            "code_challenge_method": "S256",
        ].merging(extra) { $1 }
    }

    /// Signs in as `login` and returns what follows the password: the consent page or the redirect.
    func signIn(_ app: Application, _ fx: IdentityFixture, _ query: [String: String], login: String, password: String)
        async throws -> TestingHTTPResponse
    {
        let path = IdentityPath.v2Authorize(tenant: fx.tenantId)
        let page = try await app.get(path + "?" + HTTPForm.encode(query))
        #expect(page.status == .ok, "\(page.body.string)")
        let flowToken = try #require(page.body.string.firstMatch(of: /name="flow_token" value="([^"]+)"/)?.1)
        let cookie = try #require(page.headers.setCookie?["m365_identity_flow"])
        var form = query
        form["login"] = login
        form["passwd"] = password
        form["flow_token"] = String(flowToken)
        return try await app.postForm(path, form, headers: ["Cookie": "m365_identity_flow=\(cookie.string)"])
    }

    /// Submits the consent page's form with `action` (`accept` or `cancel`).
    func answer(
        _ app: Application, _ fx: IdentityFixture, page: TestingHTTPResponse, _ query: [String: String],
        action: String, forOrganization: Bool = false
    ) async throws -> TestingHTTPResponse {
        let html = page.body.string
        let flowToken = try #require(html.firstMatch(of: /name="flow_token" value="([^"]+)"/)?.1)
        let ticket = try #require(html.firstMatch(of: /name="consent_ticket" value="([^"]+)"/)?.1)
        let cookie = try #require(page.headers.setCookie?["m365_identity_flow"])
        var form = query
        form["flow_token"] = String(flowToken)
        form["consent_ticket"] = String(ticket).replacingOccurrences(of: "&#43;", with: "+")
            .replacingOccurrences(of: "&#x2B;", with: "+").replacingOccurrences(of: "&#x3D;", with: "=")
            .replacingOccurrences(of: "&#61;", with: "=").replacingOccurrences(of: "&#x2F;", with: "/")
            .replacingOccurrences(of: "&#47;", with: "/")
        form["consent_action"] = action
        if forOrganization { form["consent_for_organization"] = "true" }
        return try await app.postForm(
            IdentityPath.v2Authorize(tenant: fx.tenantId), form,
            headers: ["Cookie": "m365_identity_flow=\(cookie.string)"])
    }

    func redirectFields(_ response: TestingHTTPResponse) throws -> [String: String] {
        let location = try #require(response.headers.first(name: .location))
        return HTTPForm.decode(String(location.split(separator: "?", maxSplits: 1)[1]))
    }

    func redeem(_ app: Application, _ fx: IdentityFixture, client: IdentityAdmin.App, code: String) async throws
        -> TestingHTTPResponse
    {
        var form = [
            "grant_type": "authorization_code", "client_id": client.appId, "code": code,
            "redirect_uri": IdentityFixture.redirectURI, "code_verifier": Self.verifier,
        ]
        if let secret = client.secret { form["client_secret"] = secret }
        return try await app.postForm(fx.v2TokenPath, form)
    }

    func globalAdmin(_ app: Application, _ fx: IdentityFixture) async throws -> (upn: String, password: String) {
        let admin = app.directoryAdmin()
        let password = RandomToken.password()
        let user = try await admin.createUser(
            tenant: fx.tenantId,
            .init(userPrincipalName: "megan@\(IdentityFixture.domain)", displayName: "Megan Bowen", password: password))
        _ = try await admin.assignRole(tenant: fx.tenantId, user: user.id, role: "Global Administrator")
        return (user.userPrincipalName, password)
    }

    @Test func aUserConsentsForThemselvesToWhatNeedsNoAdmin() async throws {
        try await withIdentity { app, fx in
            let client = try await newClient(app, fx)
            let q = query(client, scope: "openid offline_access User.Read")
            let page = try await signIn(app, fx, q, login: fx.userUPN, password: fx.userPassword)
            #expect(page.status == .ok)
            #expect(page.headers.first(name: .location) == nil)
            #expect(page.body.string.contains("Permissions requested"))
            #expect(page.body.string.contains("<code>User.Read</code>"))
            #expect(!page.body.string.contains("consent_for_organization"))
            let done = try await answer(app, fx, page: page, q, action: "accept")
            let code = try #require(try redirectFields(done)["code"])
            let tokens = try (try await redeem(app, fx, client: client, code: code)).json(TokenResponseV2.self)
            #expect(try decodeJWT(tokens.accessToken).claims.scp == "User.Read")

            // The consent is the user's own: recorded once, and the next sign-in goes straight through.
            let consents = try await app.directoryAdmin().listConsents(tenant: fx.tenantId, client: client.appId)
            #expect(consents.map(\.consentType) == ["Principal"])
            #expect(consents.first?.principalId == fx.userId)
            let again = try await signIn(app, fx, q, login: fx.userUPN, password: fx.userPassword)
            #expect(try redirectFields(again)["code"] != nil)
        }
    }

    @Test func aUserCannotConsentToWhatNeedsAnAdmin() async throws {
        try await withIdentity { app, fx in
            let client = try await newClient(app, fx)
            let q = query(client, scope: "openid Directory.Read.All")
            let page = try await signIn(app, fx, q, login: fx.userUPN, password: fx.userPassword)
            #expect(page.body.string.contains("(admin consent required)"))
            #expect(page.body.string.contains("Ask an admin to grant permission"))
            #expect(!page.body.string.contains("idBtn_Accept"))
            // Posting "accept" anyway is refused back to the app with Entra's code.
            let forced = try await answer(app, fx, page: page, q, action: "accept")
            let fields = try redirectFields(forced)
            #expect(fields["error"] == "access_denied")
            #expect(fields["error_codes"] == "[90094]")
            #expect(fields["code"] == nil)
            #expect(try await app.directoryAdmin().listConsents(tenant: fx.tenantId, client: client.appId).isEmpty)
        }
    }

    @Test func aGlobalAdministratorConsentsForTheOrganization() async throws {
        try await withIdentity { app, fx in
            let client = try await newClient(app, fx)
            let ga = try await globalAdmin(app, fx)
            let q = query(client, scope: "openid Directory.Read.All", extra: ["prompt": "admin_consent"])
            let page = try await signIn(app, fx, q, login: ga.upn, password: ga.password)
            #expect(page.body.string.contains("on behalf of your organization"))
            let done = try await answer(app, fx, page: page, q, action: "accept")
            #expect(try redirectFields(done)["code"] != nil)
            let consents = try await app.directoryAdmin().listConsents(tenant: fx.tenantId, client: client.appId)
            #expect(consents.map(\.consentType) == ["AllPrincipals"])
            #expect(consents.first?.scopes == ["Directory.Read.All"])

            // Now any user of the tenant gets the permission without a consent page.
            let user = try await signIn(
                app, fx, query(client, scope: "openid Directory.Read.All"), login: fx.userUPN,
                password: fx.userPassword)
            let code = try #require(try redirectFields(user)["code"])
            let tokens = try (try await redeem(app, fx, client: client, code: code)).json(TokenResponseV2.self)
            #expect(try decodeJWT(tokens.accessToken).claims.scp == "Directory.Read.All")
            // ... and Graph's directory read accepts the delegated token.
            let read = try await app.get(
                "/v1.0/users/\(fx.userUPN)", headers: ["Authorization": "Bearer \(tokens.accessToken)"])
            #expect(read.status == .ok, "\(read.body.string)")
        }
    }

    @Test func adminConsentByANonAdministratorIsRefused() async throws {
        try await withIdentity { app, fx in
            let client = try await newClient(app, fx)
            let q = query(client, scope: "openid User.Read", extra: ["prompt": "admin_consent"])
            let page = try await signIn(app, fx, q, login: fx.userUPN, password: fx.userPassword)
            #expect(page.body.string.contains("Only a Global Administrator"))
            let forced = try await answer(app, fx, page: page, q, action: "accept")
            #expect(try redirectFields(forced)["error_codes"] == "[90094]")
        }
    }

    @Test func cancellingConsentReturnsAccessDenied() async throws {
        try await withIdentity { app, fx in
            let client = try await newClient(app, fx)
            let q = query(client, scope: "openid User.Read")
            let page = try await signIn(app, fx, q, login: fx.userUPN, password: fx.userPassword)
            let cancelled = try await answer(app, fx, page: page, q, action: "cancel")
            let fields = try redirectFields(cancelled)
            #expect(fields["error"] == "access_denied")
            #expect(fields["error_codes"] == "[65004]")
            #expect(fields["state"] == "st")
        }
    }

    @Test func aForgedConsentTicketIsNotAnAnswer() async throws {
        try await withIdentity { app, fx in
            let client = try await newClient(app, fx)
            let q = query(client, scope: "openid User.Read")
            let page = try await signIn(app, fx, q, login: fx.userUPN, password: fx.userPassword)
            let cookie = try #require(page.headers.setCookie?["m365_identity_flow"])
            let flowToken = try #require(page.body.string.firstMatch(of: /name="flow_token" value="([^"]+)"/)?.1)
            var form = q
            form["flow_token"] = String(flowToken)
            form["consent_ticket"] = "v1.AAAA"
            form["consent_action"] = "accept"
            let res = try await app.postForm(
                IdentityPath.v2Authorize(tenant: fx.tenantId), form,
                headers: ["Cookie": "m365_identity_flow=\(cookie.string)"])
            #expect(res.headers.first(name: .location) == nil)
            #expect(res.body.string.contains("session expired"))
        }
    }

    @Test func unexposedScopesAreRefusedAtAuthorize() async throws {
        try await withIdentity { app, fx in
            let q = Self.flows.authorizeQuery(fx, scope: "openid Not.A.Permission")
            let res = try await app.get(IdentityPath.v2Authorize(tenant: fx.tenantId) + "?" + HTTPForm.encode(q))
            let fields = try redirectFields(res)
            #expect(fields["error"] == "invalid_scope")
            #expect(fields["error_codes"] == "[650053]")
        }
    }

    @Test func aRefreshCanNarrowButNeverWiden() async throws {
        try await withIdentity { app, fx in
            _ = try await app.directoryAdmin().grantConsent(
                tenant: fx.tenantId, client: fx.client.appId,
                .init(resource: MicrosoftGraphResource.identifierURI, scopes: ["User.ReadBasic.All"]))
            let q = Self.flows.authorizeQuery(fx, scope: "openid offline_access User.Read User.ReadBasic.All")
            let code = try Self.flows.code(from: try await Self.flows.signIn(app, fx, query: q))
            let tokens = try (try await Self.flows.redeem(app, fx, code: code)).json(TokenResponseV2.self)
            #expect(try decodeJWT(tokens.accessToken).claims.scp == "User.Read User.ReadBasic.All")
            let refresh = try #require(tokens.refreshToken)

            func refreshed(_ token: String, scope: String) async throws -> TestingHTTPResponse {
                try await app.postForm(
                    fx.v2TokenPath,
                    [
                        "grant_type": "refresh_token", "client_id": fx.client.appId,
                        "client_secret": fx.clientSecret, "refresh_token": token, "scope": scope,
                    ])
            }
            let narrow = try await refreshed(refresh, scope: "User.Read offline_access")
            #expect(narrow.status == .ok)
            let narrowTokens = try narrow.json(TokenResponseV2.self)
            #expect(try decodeJWT(narrowTokens.accessToken).claims.scp == "User.Read")

            let wide = try await refreshed(
                try #require(narrowTokens.refreshToken), scope: "User.Read Directory.Read.All offline_access")
            #expect(wide.status == .badRequest)
            #expect(wide.entraError?.errorCodes == [65001])
            #expect(wide.entraError?.error == "invalid_grant")
            #expect(wide.entraError?.suberror == "consent_required")
            #expect(wide.entraError?.errorDescription.contains("Directory.Read.All") == true)
        }
    }

    @Test func defaultCarriesEverythingGrantedAndNothingElse() async throws {
        try await withIdentity { app, fx in
            let q = Self.flows.authorizeQuery(fx, scope: "openid https://graph.microsoft.com/.default")
            let code = try Self.flows.code(from: try await Self.flows.signIn(app, fx, query: q))
            let tokens = try (try await Self.flows.redeem(app, fx, code: code)).json(TokenResponseV2.self)
            #expect(try decodeJWT(tokens.accessToken).claims.scp == "User.Read")
        }
    }

    @Test func aPublicClientMustSendAPKCEChallenge() async throws {
        try await withIdentity { app, fx in
            let client = try await newClient(app, fx)
            var q = query(client, scope: "openid User.Read")
            q["code_challenge"] = nil
            q["code_challenge_method"] = nil
            let res = try await app.get(IdentityPath.v2Authorize(tenant: fx.tenantId) + "?" + HTTPForm.encode(q))
            let fields = try redirectFields(res)
            #expect(fields["error"] == "invalid_request")
            #expect(fields["error_codes"] == "[9002325]")
        }
    }

    @Test func aChallengeWithoutAMethodIsS256() async throws {
        try await withIdentity { app, fx in
            var q = Self.flows.authorizeQuery(fx, scope: "openid")
            q["code_challenge_method"] = nil
            let code = try Self.flows.code(from: try await Self.flows.signIn(app, fx, query: q))
            #expect(try await Self.flows.redeem(app, fx, code: code).status == .ok)
        }
    }

    @Test func theTokenRequestMustRepeatTheRedirectURI() async throws {
        try await withIdentity { app, fx in
            let code = try Self.flows.code(
                from: try await Self.flows.signIn(app, fx, query: Self.flows.authorizeQuery(fx, scope: "openid")))
            let res = try await app.postForm(
                fx.v2TokenPath,
                [
                    "grant_type": "authorization_code", "client_id": fx.client.appId, "client_secret": fx.clientSecret,
                    "code": code, "code_verifier": Self.verifier,
                ])
            #expect(res.entraError?.errorCodes == [900144])
            #expect(res.entraError?.errorDescription.contains("'redirect_uri'") == true)
        }
    }

    @Test func theAdminAPIGrantsAndListsConsent() async throws {
        try await withIdentity { app, fx in
            let client = try await newClient(app, fx)
            let headers: HTTPHeaders = ["Authorization": "Bearer test-admin-token", "Content-Type": "application/json"]
            let path = "/admin/api/tenants/\(fx.tenantId)/apps/\(client.appId)/consents"
            let granted = try await app.testing().sendRequest(
                .POST, path, headers: headers, body: ByteBuffer(string: #"{"resource":"https://graph.microsoft.com"}"#))
            #expect(granted.status == .created, "\(granted.body.string)")
            let consent = try granted.json(IdentityAdmin.Consent.self)
            #expect(consent.scopes == ["User.Read", "Directory.Read.All"])
            #expect(consent.consentType == "AllPrincipals")
            let userAdmin = try await app.testing().sendRequest(
                .POST, path, headers: headers,
                body: ByteBuffer(
                    string: #"{"resource":"https://graph.microsoft.com","scopes":["Directory.Read.All"],"user":""#
                        + fx.userUPN + #""}"#))
            #expect(userAdmin.status == .badRequest)
            let unknown = try await app.testing().sendRequest(
                .POST, path, headers: headers,
                body: ByteBuffer(string: #"{"resource":"https://graph.microsoft.com","scopes":["Nope.All"]}"#))
            #expect(unknown.status == .badRequest)
            let listed = try await app.testing().sendRequest(.GET, path, headers: headers)
            #expect(try listed.json([IdentityAdmin.Consent].self).count == 1)
        }
    }
}

import Foundation
import ServerSupport
import TestSupport
import Testing
import Vapor
import VaporTesting
import WireModels

@testable import Connector

/// The profile page's own checks (the whole sign-in runs in a browser in the conformance tests).
@Suite struct ProfilePageTests {
    @Test func signInStartsAnAuthorizationCodeFlowWithPKCE() async throws {
        try await withConnector { fx in
            let page = try await fx.connector.testing().sendRequest(.GET, "/profile")
            #expect(page.status == .ok)
            #expect(page.body.string.contains("id=\"sign-in-form\""))
            #expect(page.headers.first(name: "Content-Security-Policy")?.contains("frame-ancestors 'none'") == true)

            let started = try await fx.connector.testing().sendRequest(
                .POST, "/profile/sign-in", headers: ["Content-Type": "application/x-www-form-urlencoded"],
                body: ByteBuffer(string: "tenant=contoso.onmicrosoft.com"))
            #expect(started.status == .seeOther)
            let location = try #require(started.headers.first(name: .location))
            #expect(location.hasPrefix("\(fx.identityURL)/\(fx.tenantId)/oauth2/v2.0/authorize?"))
            let query = HTTPForm.decode(String(location.split(separator: "?", maxSplits: 1)[1]))
            #expect(query["client_id"] == fx.resourceApp.appId)
            #expect(query["code_challenge_method"] == "S256")
            #expect(query["redirect_uri"] == "https://connector.test/profile/signed-in")
            let cookie = try #require(started.headers.setCookie?[ProfilePages.signIn.flowCookie])
            #expect(cookie.isHTTPOnly && cookie.isSecure && cookie.sameSite == .lax)
            #expect(!cookie.string.contains(query["state"] ?? "-"))
        }
    }

    @Test func failuresArePagesWithTheirReason() async throws {
        try await withConnector { fx in
            let unknown = try await fx.connector.testing().sendRequest(
                .POST, "/profile/sign-in", headers: ["Content-Type": "application/x-www-form-urlencoded"],
                body: ByteBuffer(string: "tenant=fabrikam.onmicrosoft.com"))
            #expect(unknown.status == .badRequest)
            #expect(unknown.body.string.contains("does not serve fabrikam.onmicrosoft.com"))

            // A callback without the flow cookie (or with a forged state) does not sign anyone in.
            let forged = try await fx.connector.testing().sendRequest(.GET, "/profile/signed-in?code=abc&state=xyz")
            #expect(forged.status == .badRequest)
            #expect(forged.headers.contentType == .html)
            #expect(forged.headers.setCookie?[ProfilePages.signIn.sessionCookie] == nil)

            let noSession = try await fx.connector.testing().sendRequest(
                .POST, "/profile/basic", headers: ["Content-Type": "application/x-www-form-urlencoded"],
                body: ByteBuffer(string: "csrf=x&supportTool=none"))
            #expect(noSession.status == .unauthorized)
            #expect(noSession.body.string.contains("Sign in again"))

            // A session cookie that was not sealed with this Connector's key is no session.
            let fake = try await fx.connector.testing().sendRequest(
                .GET, "/profile", headers: ["Cookie": "\(ProfilePages.signIn.sessionCookie)=v1.AAAA"])
            #expect(fake.body.string.contains("id=\"sign-in-form\""))
        }
    }
}

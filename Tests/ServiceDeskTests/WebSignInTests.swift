import Foundation
import SQLKit
import ServerSupport
import TestSupport
import Testing
import Vapor
import VaporTesting

@testable import ServiceDesk

@Suite("Desk web sign-in, sessions and CSRF")
struct WebSignInTests {
    @Test func signInKeepsASessionInTheDatabaseAndSignOutEndsIt() async throws {
        try await withDesk { app, _ in
            let browser = WebBrowser(app)
            let first = try await browser.get("/incident_list.do")
            #expect(first.status == .seeOther)
            #expect(first.location == "/login.do?sysparm_goto=/incident_list.do")

            let token = try WebBrowser.csrfToken(in: try await browser.get("/login.do?sysparm_goto=/incident_list.do"))
            let signIn = try await browser.post(
                "/login.do",
                [
                    ("sysparm_ck", token), ("user_name", "agent"), ("user_password", DeskFixture.password("agent")),
                    ("sysparm_goto", "/incident_list.do"),
                ])
            #expect(signIn.status == .seeOther)
            #expect(signIn.location == "/incident_list.do")
            let cookie = try #require(signIn.headers[.setCookie].first { $0.hasPrefix("desk_session=") })
            #expect(cookie.contains("HttpOnly"))
            #expect(cookie.contains("SameSite=Lax"))
            let sessionToken = try #require(browser.cookies["desk_session"])

            // Only the token's digest is stored.
            let sql = try #require(app.db as? any SQLDatabase)
            let rows = try await sql.select().column("id_digest").from(WebSessionStore.schema).all()
            #expect(rows.count == 1)
            #expect(try rows[0].decode(column: "id_digest", as: String.self) == WebSessionStore.digest(sessionToken))

            let list = try await browser.get("/incident_list.do")
            #expect(list.status == .ok)
            #expect(list.html.contains("Agent Test (agent)"))
            #expect(list.headers.first(name: .cacheControl) == "no-store")
            #expect(list.headers.first(name: "X-Frame-Options") == "DENY")
            #expect(list.headers.first(name: "Content-Security-Policy")?.contains("script-src 'self';") == true)
            let script = try await browser.get("/scripts/desk.js")
            #expect(script.status == .ok)
            #expect(script.headers.contentType?.description.hasPrefix("application/javascript") == true)
            #expect(script.body.string.contains("aria-selected"))

            let signOut = try await browser.submit("/incident_list.do", to: "/logout.do", [])
            #expect(signOut.status == .seeOther)
            #expect(try await sql.select().column("id_digest").from(WebSessionStore.schema).all().isEmpty)
            let stale = try await app.testing().sendRequest(
                .GET, "/incident_list.do", headers: ["Cookie": "desk_session=\(sessionToken)"])
            #expect(stale.status == .seeOther)
        }
    }

    @Test func sessionsEndWhenIdleAndSecureCookiesOverHTTPS() async throws {
        let clock = TestClock()
        try await withDesk(clock: clock) { app, _ in
            let browser = WebBrowser(app)
            try await browser.signIn("agent")
            #expect(try await browser.get("/incident_list.do").status == .ok)
            clock.advance(by: WebSessionStore.idleTimeout + 1)
            #expect(try await browser.get("/incident_list.do").status == .seeOther)
        }
        try await withDesk(publicURL: "https://desk.example.com") { app, _ in
            let signIn = try await WebBrowser(app).signIn("agent")
            let cookie = try #require(signIn.headers[.setCookie].first { $0.hasPrefix("desk_session=") })
            #expect(cookie.contains("Secure"))
        }
    }

    @Test func wrongPasswordsAreThrottledPerUserName() async throws {
        let clock = TestClock()
        try await withDesk(clock: clock) { app, _ in
            let browser = WebBrowser(app)
            for _ in 0..<SignInThrottle.Limits.standard.perUser {
                let failed = try await browser.signIn("agent", password: "wrong")
                #expect(failed.status == .unauthorized)
                #expect(failed.html.contains("User name or password invalid."))
                #expect(browser.cookies["desk_session"] == nil)
            }
            let locked = try await browser.signIn("agent")
            #expect(locked.status == .tooManyRequests)
            #expect(locked.html.contains("Too many failed sign-in attempts. Try again in 15 minutes."))
            #expect(locked.headers.first(name: .retryAfter) != nil)
            #expect(browser.cookies["desk_session"] == nil)
            // Another user name is not locked by these failures.
            #expect(try await WebBrowser(app).signIn("admin.user").status == .seeOther)

            clock.advance(by: SignInThrottle.Limits.standard.window + 1)
            #expect(try await browser.signIn("agent").status == .seeOther)
        }
    }

    @Test func webServiceOnlyUsersCannotSignInButCanCallTheAPI() async throws {
        try await withDesk { app, _ in
            let browser = WebBrowser(app)
            let refused = try await browser.signIn("integration")
            #expect(refused.status == .forbidden)
            #expect(refused.html.contains("This account has web service access only"))
            #expect(browser.cookies["desk_session"] == nil)
            #expect(try await app.table(.GET, "incident?sysparm_limit=1", as: "integration").status == .ok)
        }
    }

    @Test func formsWithoutTheSessionsCSRFTokenChangeNothing() async throws {
        try await withDesk { app, _ in
            let browser = WebBrowser(app)
            try await browser.signIn("agent")
            let before = try await app.table(.GET, "incident", as: "agent").results.count
            let missing = try await browser.post(
                "/incident.do", [("sys_id", "-1"), ("sysparm_action", "insert"), ("short_description", "forged")])
            #expect(missing.status == .forbidden)
            #expect(missing.html.contains("This form has expired"))
            let wrong = try await browser.post(
                "/incident.do",
                [
                    ("sysparm_ck", "not-the-token"), ("sys_id", "-1"), ("sysparm_action", "insert"),
                    ("short_description", "forged"),
                ])
            #expect(wrong.status == .forbidden)
            #expect(try await app.table(.GET, "incident", as: "agent").results.count == before)

            // Login CSRF: a sign-in form not issued by the desk to this browser is refused.
            let forged = try await WebBrowser(app).post(
                "/login.do",
                [("sysparm_ck", "guess"), ("user_name", "agent"), ("user_password", DeskFixture.password("agent"))])
            #expect(forged.status == .forbidden)
            #expect(forged.headers[.setCookie].allSatisfy { !$0.hasPrefix("desk_session=") })
        }
    }

    @Test func signInOnlyRedirectsWithinTheDesk() {
        #expect(SignInController.safeGoto("/incident.do?sys_id=1") == "/incident.do?sys_id=1")
        for hostile in ["https://evil.example", "//evil.example", "/\\evil.example", "javascript:alert(1)", nil] {
            #expect(SignInController.safeGoto(hostile) == "/")
        }
    }

    @Test func sessionsAreSharedByInstancesOnOneDatabase() async throws {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("desk-\(UUID().uuidString).sqlite")
        defer { try? FileManager.default.removeItem(at: file) }
        try await withDesk(database: .sqliteFile(file)) { first, _ in
            let browser = WebBrowser(first)
            try await browser.signIn("agent")
            let token = try #require(browser.cookies["desk_session"])
            try await withDeskInstance(database: .sqliteFile(file)) { second in
                let page = try await second.testing().sendRequest(
                    .GET, "/incident_list.do", headers: ["Cookie": "desk_session=\(token)"])
                #expect(page.status == .ok)
            }
        }
    }
}

@Suite("Sign-in throttling behind a load balancer")
struct ForwardedForTests {
    @Test func theForwardedAddressCountsOnlyWhenTrusted() async throws {
        try await withTestApp(
            setUp: { app in
                var config = deskConfig(database: .sqliteMemory, clock: TestClock())
                config.trustsForwardedFor = true
                try await configure(app, config: config)
            },
            { app, _ in
                let request = Request(
                    application: app, headers: ["X-Forwarded-For": "203.0.113.9, 198.51.100.7"],
                    on: app.eventLoopGroup.next())
                #expect(DeskAuthenticator.clientAddress(request) == "198.51.100.7")
            })
        try await withTestApp(
            setUp: { app in try await configure(app, config: deskConfig(database: .sqliteMemory, clock: TestClock())) },
            { app, _ in
                let request = Request(
                    application: app, headers: ["X-Forwarded-For": "203.0.113.9"], on: app.eventLoopGroup.next())
                #expect(DeskAuthenticator.clientAddress(request) != "203.0.113.9")
            })
    }
}

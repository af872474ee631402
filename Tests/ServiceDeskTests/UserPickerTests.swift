import Foundation
import TestSupport
import Testing
import Vapor
import VaporTesting

@testable import ServiceDesk

/// The reference fields' user search and the plain text box it fills.
@Suite("Desk reference picker")
struct UserPickerTests {
    static func users(_ response: TestingHTTPResponse) -> [[String: Any]] {
        ((try? JSONSerialization.jsonObject(with: Data(response.body.readableBytesView))) as? [String: Any])?[
            "result"] as? [[String: Any]] ?? []
    }

    @Test func searchFindsByNameUserIDOrEmailWithTheFormsAccessRules() async throws {
        try await withDesk { app, fixture in
            let directory = DeskDirectory(app: app)
            try await directory.createUser(
                userName: "anna_percent", firstName: "Anna", lastName: "100% Sure", email: "anna@example.com",
                password: DeskFixture.password("anna_percent"), roles: [])
            let anonymous = WebBrowser(app)
            let refused = try await anonymous.get("/sys_user_reference.do?field=caller_id&q=ag")
            #expect(refused.status != .ok)
            let caller = WebBrowser(app)
            try await caller.signIn("caller", password: DeskFixture.password("caller"))
            #expect(try await caller.get("/sys_user_reference.do?field=caller_id&q=ag").status == .forbidden)

            let agent = WebBrowser(app)
            try await agent.signIn("agent", password: DeskFixture.password("agent"))
            let byName = Self.users(try await agent.get("/sys_user_reference.do?field=caller_id&q=AGEN"))
            #expect(byName.map { $0["userName"] as? String } == ["agent"])
            #expect(byName.first?["sysId"] as? String == fixture.agentId)
            let byMail = Self.users(try await agent.get("/sys_user_reference.do?field=caller_id&q=caller%40exa"))
            #expect(byMail.map { $0["userName"] as? String } == ["caller"])
            // LIKE's wildcards are text here: "%" finds the one name holding it, "_" the one user ID.
            let percent = Self.users(try await agent.get("/sys_user_reference.do?field=caller_id&q=100%25"))
            #expect(percent.map { $0["userName"] as? String } == ["anna_percent"])
            let underscore = Self.users(try await agent.get("/sys_user_reference.do?field=caller_id&q=anna_"))
            #expect(underscore.map { $0["userName"] as? String } == ["anna_percent"])
            // Web-service-only users are never offered; assignees are agents only.
            let integration = Self.users(try await agent.get("/sys_user_reference.do?field=caller_id&q=integration"))
            #expect(integration.isEmpty)
            let assignees = Self.users(try await agent.get("/sys_user_reference.do?field=assigned_to&q="))
            let names = Set(assignees.compactMap { $0["userName"] as? String })
            #expect(names.contains("agent") && names.contains("admin.user") && !names.contains("caller"))
            #expect(try await agent.get("/sys_user_reference.do?field=password&q=a").status == .badRequest)
            let long = String(repeating: "x", count: 5000)
            #expect(try await agent.get("/sys_user_reference.do?field=caller_id&q=\(long)").status == .ok)
        }
    }

    @Test func theFormShowsReferencesAsUserIDsAndResolvesWhatIsTyped() async throws {
        try await withDesk { app, _ in
            let agent = WebBrowser(app)
            try await agent.signIn("agent", password: DeskFixture.password("agent"))
            let blank = try await agent.get("/incident.do?sys_id=-1")
            #expect(blank.html.contains(#"data-reference="/sys_user_reference.do?field=caller_id""#))
            // No select of every user: the form lists none of them.
            #expect(!blank.html.contains(#"<select form="incident-form" id="caller_id""#))
            #expect(!blank.html.contains("Caller Test"))
            let created = try await agent.submit(
                "/incident.do?sys_id=-1", to: "/incident.do",
                [
                    ("sys_id", "-1"), ("short_description", "Typed references"), ("caller_id", "Caller Test"),
                    ("assigned_to", "agent"), ("impact", "3"), ("urgency", "3"), ("state", "1"),
                ])
            #expect(created.status == .seeOther, "\(created.html.prefix(2000))")
            let page = try await agent.get(try #require(created.location))
            #expect(page.html.contains(#"id="caller_id" name="caller_id" value="caller""#))
            #expect(page.html.contains(#"<span class="muted" id="caller_id-label">Caller Test</span>"#))
            #expect(page.html.contains(#"name="assigned_to" value="agent""#))
            let unknown = try await agent.submit(
                "/incident.do?sys_id=-1", to: "/incident.do",
                [("sys_id", "-1"), ("short_description", "Nobody"), ("caller_id", "No Such Person")])
            #expect(unknown.status == .badRequest)
            #expect(unknown.html.contains("No Such Person"))
        }
    }
}

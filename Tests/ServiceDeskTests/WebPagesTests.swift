import Foundation
import SQLKit
import ServerSupport
import TestSupport
import Testing
import Vapor
import VaporTesting

@testable import ServiceDesk

@Suite("Desk web pages: roles, incidents, admin screens")
struct WebPagesTests {
    static let adminPages = [
        "/sys_user_list.do", "/sys_user.do?sys_id=-1", "/sys_user_role_list.do", "/oauth_entity_list.do",
        "/oauth_entity.do?sys_id=-1", "/sys_scope_privilege_list.do", "/syslog_list.do",
        "/sys_outbound_http_log_list.do", "/syslog.do?sys_id=0123456789abcdef0123456789abcdef",
    ]

    @Test func rolesDecideWhichPagesOpen() async throws {
        try await withDesk { app, _ in
            let insights = WebBrowser(app)
            try await insights.signIn("insights")
            #expect(try await insights.get("/incident_list.do").status == .ok)
            let newIncident = try await insights.get("/incident.do?sys_id=-1")
            #expect(newIncident.status == .forbidden)
            #expect(newIncident.html.contains("You are not allowed to open this page"))
            for page in Self.adminPages {
                #expect(try await insights.get(page).status == .forbidden, "\(page)")
            }
            let nobody = WebBrowser(app)
            try await nobody.signIn("caller")
            #expect(try await nobody.get("/incident_list.do").status == .forbidden)
            #expect(try await nobody.get("/").location == "/welcome.do")

            let admin = WebBrowser(app)
            try await admin.signIn("admin.user")
            for page in Self.adminPages + ["/incident_list.do"] where !page.hasPrefix("/syslog.do") {
                #expect(try await admin.get(page).status == .ok, "\(page)")
            }
            #expect(try await admin.get("/incident.do?sys_id=0123456789abcdef0123456789abcdef").status == .notFound)
        }
    }

    @Test func anAgentCreatesNotesResolvesAndReopensAnIncident() async throws {
        try await withDesk { app, fixture in
            let agent = WebBrowser(app)
            try await agent.signIn("agent")
            let missing = try await agent.submit(
                "/incident.do?sys_id=-1", to: "/incident.do",
                [("sys_id", "-1"), ("sysparm_action", "insert"), ("short_description", " ")])
            #expect(missing.status == .badRequest)
            #expect(missing.html.contains("Short description is required."))

            let created = try await agent.submit(
                "/incident.do?sys_id=-1", to: "/incident.do",
                [
                    ("sys_id", "-1"), ("sysparm_action", "insert"),
                    ("short_description", "Teams calls drop after 5 minutes"),
                    ("caller_id", fixture.callerId), ("impact", "1"), ("urgency", "2"), ("state", "1"),
                    ("category", "network"), ("work_notes", "First look: affects the whole floor"),
                ])
            #expect(created.status == .seeOther)
            let page = try #require(created.location)
            let sysId = String(try #require(page.split(separator: "=").last))
            let record = try await app.table(.GET, "incident/\(sysId)", as: "agent").result
            #expect(record["priority"] as? String == "2")
            #expect(record["caller_id"] as? [String: Any] != nil)

            let note = try await agent.submit(
                page, to: "/incident.do",
                [
                    ("sys_id", sysId), ("sysparm_action", "update"),
                    ("comments", "We are looking into it <script>x</script>"),
                ])
            #expect(note.status == .seeOther)
            let shown = try await agent.get(page)
            #expect(shown.html.contains("updated.</div>"))
            #expect(!(try await agent.get(page)).html.contains("updated.</div>"))
            #expect(shown.html.contains("First look: affects the whole floor"))
            #expect(shown.html.contains("We are looking into it &lt;script&gt;x&lt;/script&gt;"))
            #expect(!shown.html.contains("<script>x</script>"))
            #expect(shown.html.contains("id=\"resolve_incident\""))

            let noNotes = try await agent.submit(
                page, to: "/incident.do", [("sys_id", sysId), ("sysparm_action", "resolve"), ("close_code", "")])
            #expect(noNotes.status == .badRequest)
            #expect(noNotes.html.contains("choose a resolution code and write resolution notes"))

            let resolved = try await agent.submit(
                page, to: "/incident.do",
                [
                    ("sys_id", sysId), ("sysparm_action", "resolve"), ("close_code", "Solved (Permanently)"),
                    ("close_notes", "Network driver updated"),
                ])
            #expect(resolved.status == .seeOther)
            var stored = try await app.table(.GET, "incident/\(sysId)", as: "agent").result
            #expect(stored["state"] as? String == "6")
            #expect((stored["resolved_at"] as? String)?.isEmpty == false)
            #expect(try await agent.get(page).html.contains("id=\"reopen_incident\""))

            let reopened = try await agent.submit(
                page, to: "/incident.do", [("sys_id", sysId), ("sysparm_action", "reopen")])
            #expect(reopened.status == .seeOther)
            stored = try await app.table(.GET, "incident/\(sysId)", as: "agent").result
            #expect(stored["state"] as? String == "2")
            #expect(stored["resolved_at"] as? String == "")
            let again = try await agent.submit(
                page, to: "/incident.do", [("sys_id", sysId), ("sysparm_action", "reopen")])
            #expect(again.status == .badRequest)

            // Bad input is a page that says what is wrong, never a crash or a half-made record.
            let badImpact = try await agent.submit(
                page, to: "/incident.do", [("sys_id", sysId), ("sysparm_action", "update"), ("impact", "abc")])
            #expect(badImpact.status == .badRequest)
            #expect(badImpact.html.contains("Invalid value for field &#39;impact&#39;"))
            // Over a real connection: the in-memory tester hands routes bodies already collected.
            let token = try WebBrowser.csrfToken(in: try await agent.get(page))
            let tooLarge = try await app.testing(method: .running(port: freeLoopbackPort())).sendRequest(
                .POST, "/incident.do",
                headers: [
                    "Cookie": "desk_session=\(agent.cookies["desk_session"] ?? "")",
                    "Content-Type": "application/x-www-form-urlencoded",
                ],
                body: ByteBuffer(
                    string: "sysparm_ck=\(token)&sys_id=\(sysId)&description="
                        + String(repeating: "a", count: 1_100_000)))
            #expect(tooLarge.status == .payloadTooLarge)
            #expect(tooLarge.html.contains("The form is larger than the desk accepts."))
            #expect(try await agent.get("/incident.do?sys_id=%3Cscript%3E").status == .notFound)
        }
    }

    @Test func theIncidentListFiltersSortsAndPages() async throws {
        try await withDesk { app, _ in
            for index in 1...23 {
                _ = try await app.table(
                    .POST, "incident", as: "agent",
                    json: [
                        "short_description": "Outlook issue \(index)", "impact": index == 7 ? 1 : 3,
                        "urgency": index == 7 ? 1 : 3,
                    ])
            }
            let agent = WebBrowser(app)
            try await agent.signIn("agent")
            let first = try await agent.get("/incident_list.do")
            #expect(first.html.contains("1 to 20 of 23"))
            #expect(first.html.contains("INC0010023"))
            #expect(!first.html.contains("INC0010003<"))
            let second = try await agent.get("/incident_list.do?sysparm_first_row=21")
            #expect(second.html.contains("21 to 23 of 23"))
            #expect(second.html.contains("INC0010001"))
            let sorted = try await agent.get("/incident_list.do?sysparm_orderby=number&sysparm_desc=false")
            #expect(sorted.html.contains("aria-sort=\"ascending\""))
            let critical = try await agent.get("/incident_list.do?sysparm_priority=1")
            #expect(critical.html.contains("1 to 1 of 1"))
            #expect(critical.html.contains("Outlook issue 7"))
            let search = try await agent.get("/incident_list.do?sysparm_search=issue%2012")
            #expect(search.html.contains("1 to 1 of 1"))
            let bad = try await agent.get("/incident_list.do?sysparm_query=no_such_field%3D1")
            #expect(bad.status == .badRequest)
            #expect(bad.html.contains("Unknown field &#39;no_such_field&#39;") || bad.html.contains("Unknown field"))
        }
    }

    @Test func anAdminManagesUsersAndTheirRoles() async throws {
        try await withDesk { app, _ in
            let admin = WebBrowser(app)
            try await admin.signIn("admin.user")
            let created = try await admin.submit(
                "/sys_user.do?sys_id=-1", to: "/sys_user.do",
                [
                    ("sys_id", "-1"), ("sysparm_action", "insert"), ("user_name", "new.agent"), ("first_name", "New"),
                    ("last_name", "Agent"), ("email", "new.agent@example.com"), ("user_password", "Passw0rd!new"),
                    ("active", "true"), ("roles", "itil"), ("roles", "x_mioms_m365_assis.administrator"),
                ])
            #expect(created.status == .seeOther)
            let newAgent = WebBrowser(app)
            try await newAgent.signIn("new.agent", password: "Passw0rd!new")
            #expect(try await newAgent.get("/incident.do?sys_id=-1").status == .ok)

            let users = try await app.table(.GET, "sys_user?sysparm_query=user_name=new.agent", as: "admin.user")
                .results
            let id = try #require(users.first?["sys_id"] as? String)
            let deactivated = try await admin.submit(
                "/sys_user.do?sys_id=\(id)", to: "/sys_user.do",
                [("sys_id", id), ("sysparm_action", "update"), ("user_name", "new.agent"), ("roles", "itil")])
            #expect(deactivated.status == .seeOther)
            // Deactivation ends the open session at once.
            #expect(try await newAgent.get("/incident_list.do").status == .seeOther)

            let duplicate = try await admin.submit(
                "/sys_user.do?sys_id=-1", to: "/sys_user.do",
                [("sys_id", "-1"), ("user_name", "agent"), ("user_password", "Passw0rd!dup"), ("active", "true")])
            #expect(duplicate.status == .badRequest)
            #expect(duplicate.html.contains("A user with this user ID already exists."))
        }
    }

    @Test func theRegistryShowsAGeneratedSecretOnceAndStoresItSealed() async throws {
        try await withDesk { app, _ in
            let admin = WebBrowser(app)
            try await admin.signIn("admin.user")
            let chooser = try await admin.get("/oauth_entity.do?sys_id=-1")
            #expect(chooser.html.contains("Configure an OIDC provider to verify ID tokens"))
            let created = try await admin.submit(
                "/oauth_entity.do?sys_id=-1&sysparm_type=client", to: "/oauth_entity.do",
                [
                    ("sys_id", "-1"), ("type", "client"), ("name", "Microsoft 365 callbacks"), ("active", "true"),
                    ("access_token_lifespan", "1800"), ("refresh_token_lifespan", "864000"),
                ])
            #expect(created.status == .ok)
            let secret = String(try #require(created.html.firstMatch(of: /id="secret-value">([^<]+)</)?.1))
            let decoded = secret.replacingOccurrences(of: "&amp;", with: "&")
            let entities = try await app.table(
                .GET,
                "oauth_entity?sysparm_query=name=Microsoft 365 callbacks".addingPercentEncoding(
                    withAllowedCharacters: .urlQueryAllowed)!, as: "admin.user"
            ).results
            let entity = try #require(entities.first)
            #expect(entity["client_secret"] == nil)
            let id = try #require(entity["sys_id"] as? String)
            #expect(!(try await admin.get("/oauth_entity.do?sys_id=\(id)")).html.contains(secret))
            let sql = try #require(app.db as? any SQLDatabase)
            let sealed = try #require(
                try await sql.select().column("client_secret").from(DeskTables.oauthEntity.databaseTable)
                    .where("sys_id", .equal, id).first()?.decode(column: "client_secret", as: String.self))
            #expect(sealed != decoded)
            #expect(try DeskFixture.masterKey.open(sealed) == decoded)

            let provider = try await admin.submit(
                "/oauth_entity.do?sys_id=-1&sysparm_type=oauth_provider", to: "/oauth_entity.do",
                [
                    ("sys_id", "-1"), ("type", "oauth_provider"), ("name", "Microsoft 365 outbound"),
                    ("active", "true"),
                    ("client_id", "11111111-2222-3333-4444-555555555555"), ("client_secret", "provider-secret-value"),
                    ("token_url", "https://login.example.com/contoso/oauth2/token"), ("resource", "api://connector"),
                ])
            #expect(provider.status == .seeOther)
            let profiles = try await app.table(.GET, "oauth_entity_profile", as: "admin.user").results
            #expect(profiles.map { $0["name"] as? String } == ["Microsoft 365 outbound default_profile"])
            #expect(profiles.first?["grant_type"] as? String == "client_credentials")
        }
    }

    @Test func anAdminCanRevokeTheAppsCrossScopeRead() async throws {
        try await withDesk { app, _ in
            let sql = try #require(app.db as? any SQLDatabase)
            try await ScopePrivileges.require(
                sourceScope: ScopePrivileges.appScope, table: "oauth_entity", operation: "read", sql: sql)
            let rows = try await app.table(
                .GET, "sys_scope_privilege?sysparm_query=target_name=oauth_entity", as: "admin.user"
            ).results
            let id = try #require(rows.first?["sys_id"] as? String)
            let admin = WebBrowser(app)
            try await admin.signIn("admin.user")
            let saved = try await admin.submit(
                "/sys_scope_privilege.do?sys_id=\(id)", to: "/sys_scope_privilege.do",
                [("sys_id", id), ("status", "denied")])
            #expect(saved.status == .seeOther)
            await #expect {
                try await ScopePrivileges.require(
                    sourceScope: ScopePrivileges.appScope, table: "oauth_entity", operation: "read", sql: sql)
            } throws: { error in
                "\(error)"
                    == "Read operation against 'oauth_entity' from scope 'x_mioms_m365_assis' has been refused due to "
                    + "the table's cross-scope access policy"
            }
            let entries = try await app.table(
                .GET, "syslog?sysparm_query=source=sys_scope_privilege", as: "admin.user"
            ).results
            let entryId = try #require(entries.first?["sys_id"] as? String)
            let entry = try await admin.get("/syslog.do?sys_id=\(entryId)")
            #expect(entry.html.contains("Information"))
            #expect(entry.html.contains("sys_scope_privilege"))
            let log = try await admin.get("/syslog_list.do?sysparm_source=sys_scope_privilege")
            #expect(
                log.html.contains("admin.user set read on &#39;oauth_entity&#39;")
                    || log.html.contains("admin.user set read on 'oauth_entity'"))
        }
    }
}

/// A tab such as the Microsoft 365 support app adds to the incident form, with a template of its own bundle.
struct TestIncidentTab: IncidentFormTab {
    struct Context: Encodable, Sendable {
        let incident: String
        let note: String
    }

    var id = "test_tab"
    var title = "Test tab"
    var roles: Set<String> = ["x_mioms_m365_assis.administrator"]
    var template = "x_test_app/tab"
    var timeLimit: Duration = .seconds(5)
    /// What the tab does before answering: nothing, fail, or wait (as a Connector that does not answer).
    var behaviour: Behaviour = .answer

    enum Behaviour: Sendable {
        case answer
        case fail
        case hang
    }

    struct ConnectorDown: Error {}

    func context(incidentSysId: String, request: Request) async throws -> any Encodable & Sendable {
        switch behaviour {
        case .answer: break
        case .fail: throw ConnectorDown()
        case .hang: try await Task.sleep(for: .seconds(60))
        }
        return Context(incident: incidentSysId, note: "<b>escaped</b>")
    }
}

@Suite("Incident form tabs added by other modules")
struct IncidentFormTabTests {
    @Test func aRegisteredTabShowsForItsRolesOnly() async throws {
        try await withDesk { app, _ in
            try app.addLeafViews(from: Bundle.module, name: "x_test_app")
            app.incidentFormTabs.add(TestIncidentTab())
            let created = try await app.table(.POST, "incident", as: "agent", json: ["short_description": "Tabbed"])
            let id = try #require(created.result["sys_id"] as? String)
            let agent = WebBrowser(app)
            try await agent.signIn("agent")
            #expect(!(try await agent.get("/incident.do?sys_id=\(id)")).html.contains("test-tab-content"))
            let admin = WebBrowser(app)
            try await admin.signIn("admin.user")
            let page = try await admin.get("/incident.do?sys_id=\(id)")
            #expect(page.html.contains("<p id=\"test-tab-content\">Tab for \(id) — &lt;b&gt;escaped&lt;/b&gt;</p>"))
            #expect(page.html.contains("id=\"tab-test_tab\""))
        }
    }

    @Test func aFailingOrSlowTabIsAPanelWithTheLogReferenceAndThePageStillWorks() async throws {
        try await withDesk { app, _ in
            try app.addLeafViews(from: Bundle.module, name: "x_test_app")
            app.incidentFormTabs.add(TestIncidentTab(id: "broken", title: "Broken", behaviour: .fail))
            app.incidentFormTabs.add(
                TestIncidentTab(id: "slow", title: "Slow", timeLimit: .milliseconds(200), behaviour: .hang))
            app.incidentFormTabs.add(TestIncidentTab(id: "working", title: "Working"))
            let created = try await app.table(.POST, "incident", as: "agent", json: ["short_description": "Tabbed"])
            let id = try #require(created.result["sys_id"] as? String)
            let admin = WebBrowser(app)
            try await admin.signIn("admin.user")
            let page = try await admin.get("/incident.do?sys_id=\(id)")
            #expect(page.status == .ok)
            #expect(page.html.contains("id=\"short_description\""))
            #expect(page.html.contains("id=\"panel-broken-failure\""))
            #expect(page.html.contains("id=\"panel-slow-failure\""))
            #expect(page.html.contains("did not answer within"))
            #expect(page.html.contains("id=\"test-tab-content\""))
            let log = try await app.table(.GET, "syslog?sysparm_query=source=ui", as: "admin.user").results
            #expect(log.count == 2)
            let reference = try #require(log.first?["sys_id"] as? String)
            #expect(page.html.contains("System log entry: \(reference)."))
            #expect(log.contains { ($0["message"] as? String)?.contains("ConnectorDown") == true })
        }
    }
}

import Foundation
import SQLKit
import ServiceDesk
import TestSupport
import Testing
import Vapor
import VaporTesting
import WireModels

@testable import M365SupportApp

@Suite("Microsoft 365 support app: setup and insights over real HTTP")
struct InsightsTests {
    @Test func theSetupAPIWalksInsightsOnlyAndTheFinalCheckWaitsForTheAppId() async throws {
        try await withApp { fixture in
            let fresh = try await fixture.setup(.GET)
            #expect(fresh.status == .ok)
            #expect(fresh.json["result"]?["nextStep"] as? String == "consent")
            #expect(fresh.json["result"]?["complete"] as? Bool == false)
            let early = try await fixture.setup(.PUT, "/outbound", json: ["profile": "x"])
            #expect(early.status == .badRequest)
            #expect(early.errorMessage?.contains("consent") == true)
            let forbidden = try await fixture.desk.testing().sendRequest(
                .GET, "/api/x_mioms_m365_assis/v1/setup", headers: AppFixture.basic("agent"))
            #expect(forbidden.status == .forbidden)

            _ = try await fixture.configureInsightsOnly(register: false)
            let unregistered = try await fixture.setup(.POST, "/complete")
            #expect(unregistered.status == .badRequest)
            #expect(unregistered.errorMessage?.contains("App ID \(fixture.outboundApp.appId)") == true)
            #expect(unregistered.errorMessage?.contains("Microsoft 365 admin center") == true)

            try await fixture.registerAppId(fixture.outboundApp.appId)
            let done = try await fixture.setup(.POST, "/complete")
            #expect(done.status == .ok)
            let state = done.json["result"] ?? [:]
            #expect(state["mode"] as? String == "insights-only")
            #expect(state["complete"] as? Bool == true)
            #expect(state["tenantId"] as? String == fixture.tenantId)
            #expect((state["adminCenter"] as? [String: String])?["App ID"] == fixture.outboundApp.appId)
            #expect((state["capabilities"] as? [String]) == ["insights"])

            // The basic choice names the inbound OAuth client; without one the step says what to pick.
            let cases = try await fixture.setup(.PUT, "/inbound", json: ["choice": "client"])
            #expect(cases.status == .badRequest)
            #expect(cases.errorMessage?.contains("inbound OAuth client") == true)
        }
    }

    @Test func theOutboundStepNamesTheTokenEndpointsRefusalAndAnUnreachableConnector() async throws {
        try await withApp { fixture in
            #expect(try await fixture.setup(.POST, "/consent", json: [:]).status == .ok)
            let wrongSecret = try await fixture.createOutboundProvider(name: "Wrong secret", secret: "not-the-secret")
            let refused = try await fixture.setup(.PUT, "/outbound", json: ["profile": wrongSecret])
            #expect(refused.status == .badRequest)
            let message = refused.errorMessage ?? ""
            #expect(message.contains("AADSTS7000215"), "\(message)")
            #expect(message.contains("127.0.0.1"), "\(message)")
            #expect(!message.contains("not-the-secret"))

            let entity = try #require(
                try await fixture.table(.GET, "oauth_entity?sysparm_query=name=Wrong%20secret", as: "admin.user")
                    .jsonArray.first?["sys_id"] as? String)
            let fixed = try await fixture.table(
                .PATCH, "oauth_entity/\(entity)", as: "admin.user",
                json: ["client_secret": fixture.outboundApp.secret!])
            #expect(fixed.status == .ok)
            let good = wrongSecret
            let away = try await fixture.setup(
                .PUT, "/outbound", json: ["profile": good, "connectorUrl": "http://127.0.0.1:\(freeLoopbackPort())"])
            #expect(away.status == .badRequest)
            #expect(away.errorMessage?.contains("could not be reached") == true, "\(away.errorMessage ?? "")")
            let notURL = try await fixture.setup(.PUT, "/outbound", json: ["profile": good, "connectorUrl": "ftp:x"])
            #expect(notURL.errorMessage?.contains("https://") == true)

            let tokenCalls = try await fixture.table(
                .GET, "sys_outbound_http_log?sysparm_query=source=oauth^response_status=401", as: "admin.user")
            #expect(tokenCalls.jsonArray.count == 1)
            #expect(!tokenCalls.body.string.contains("not-the-secret"))
            let connectorCalls = try await fixture.table(
                .GET, "sys_outbound_http_log?sysparm_query=source=x_mioms_m365_assis", as: "admin.user")
            #expect(connectorCalls.jsonArray.count == 1)
            #expect((connectorCalls.jsonArray.first?["error_message"] as? String)?.isEmpty == false)
        }
    }

    @Test func theTabShowsRecommendedSolutionsTheRelatedHealthIssueAndSearches() async throws {
        try await withApp { fixture in
            _ = try await fixture.configureInsightsOnly()
            let incident = try await fixture.incident("Cannot join Teams meetings from browser")
            let agent = try await fixture.signedIn("agent")
            let form = try await agent.get("/incident.do?sys_id=\(incident)")
            #expect(form.status == .ok)
            #expect(form.html.contains("Microsoft 365 support"))
            #expect(
                form.html.contains(
                    "data-fragment=\"/x_mioms_m365_assis_insights.do?sys_id=\(incident)&amp;fragment=1\""))

            let panel = try await agent.get("/x_mioms_m365_assis_insights.do?sys_id=\(incident)&fragment=1")
            #expect(panel.status == .ok)
            #expect(!panel.html.contains("<html"))
            #expect(panel.html.contains("id=\"m365-solutions\""))
            #expect(panel.html.contains("<mark>"))
            #expect(panel.html.contains("TM1051207"), "\(panel.html.prefix(3000))")
            #expect(panel.html.contains("id=\"m365-contact-unavailable\""))
            #expect(panel.html.contains("insights only"))
            #expect(!panel.html.contains("m365-failure"))

            let search = try await agent.get(
                "/x_mioms_m365_assis_insights.do?sys_id=\(incident)&q=mailbox%20full%20archive")
            #expect(search.status == .ok)
            #expect(search.html.contains("<html"))
            #expect(search.html.contains("for “mailbox full archive”"))
            #expect(search.html.contains("id=\"m365-solutions\""))

            let log = try await fixture.table(
                .GET, "sys_outbound_http_log?sysparm_query=path=/api/v1/recommendedSolutions", as: "admin.user")
            #expect(log.jsonArray.count == 2)
            #expect(!log.body.string.contains("eyJ"))
        }
    }

    @Test func keptResultsSurviveResolvingReopeningAndAConnectorOutage() async throws {
        try await withApp { fixture in
            _ = try await fixture.configureInsightsOnly()
            let incident = try await fixture.incident("OneDrive sync stuck on 'Processing changes'")
            let agent = try await fixture.signedIn("agent")
            let panel = try await agent.get("/x_mioms_m365_assis_insights.do?sys_id=\(incident)&fragment=1")
            guard let first = panel.html.firstMatch(of: /class="m365-solution" data-id="([^"]+)"/)?.1 else {
                throw TestFailure("no solution: \(panel.html.prefix(2000))")
            }
            let title = try #require(
                panel.html.firstMatch(
                    of: /name="item_id" value="[^"]+">\s*<input type="hidden" name="title" value="([^"]+)"/)?.1)
            let token = try WebBrowser.csrfToken(in: panel)
            let fields: [(String, String)] = [
                ("sysparm_ck", token), ("sys_id", incident), ("kind", "solution"), ("item_id", String(first)),
                ("title", String(title)), ("detail", "OneDrive"), ("url", "https://learn.microsoft.com/x"),
                ("snippet", "the <c0>sync</c0> client"),
            ]
            let helpful = try await agent.post("/x_mioms_m365_assis_insight.do", fields + [("action", "helpful")])
            #expect(helpful.status == .seeOther)
            #expect(helpful.location == "/incident.do?sys_id=\(incident)#x_mioms_m365_assis")
            let opened = try await agent.post("/x_mioms_m365_assis_insight.do", fields + [("action", "open")])
            #expect(opened.location == "https://learn.microsoft.com/x")
            let unsafe = try await agent.post(
                "/x_mioms_m365_assis_insight.do",
                fields.map { $0.0 == "url" ? ("url", "javascript:alert(1)") : $0 } + [("action", "open")])
            #expect(unsafe.status == .badRequest)

            for state in ["6", "2"] {
                let changed = try await fixture.table(
                    .PATCH, "incident/\(incident)", as: "admin.user",
                    json: ["state": state, "close_code": "Solved (Permanently)", "close_notes": "Done"])
                #expect(changed.status == .ok)
            }
            await fixture.stopConnector()
            let later = try await agent.get("/x_mioms_m365_assis_insights.do?sys_id=\(incident)&fragment=1")
            #expect(later.status == .ok)
            #expect(later.html.contains("id=\"m365-saved\""))
            #expect(later.html.contains("data-id=\"\(first)\""))
            #expect(later.html.contains("helpful · opened"))
            let failure = try #require(later.html.firstMatch(of: /id="m365-failure">([^<]+)/)?.1)
            #expect(failure.contains("could not be reached"))
            #expect(failure.contains("127.0.0.1"))
            let logId = try #require(later.html.firstMatch(of: /system log entry ([0-9a-f]{32})/)?.1)
            let entry = try await fixture.table(.GET, "syslog/\(logId)", as: "admin.user")
            #expect((entry.json["result"]?["source"] as? String) == "x_mioms_m365_assis")
            #expect((entry.json["result"]?["message"] as? String)?.contains("outbound HTTP log entry") == true)
        }
    }

    @Test func theGuidesMessagesForSetupNotDoneAndFinalStepMissing() async throws {
        try await withApp { fixture in
            let incident = try await fixture.incident("Outlook keeps asking for password")
            let agent = try await fixture.signedIn("agent")
            let before = try await agent.get("/x_mioms_m365_assis_insights.do?sys_id=\(incident)&fragment=1")
            #expect(before.html.contains(AppFailure.setupMessage))
            #expect(before.html.contains("Reference: system log entry"))
            #expect(before.html.contains("available once the application setup is complete"))
            #expect(try await agent.get("/x_mioms_m365_assis_health.do").html.contains(AppFailure.setupMessage))

            _ = try await fixture.configureInsightsOnly()
            try await fixture.registerAppId(nil)
            let unregistered = try await agent.get("/x_mioms_m365_assis_insights.do?sys_id=\(incident)&fragment=1")
            #expect(unregistered.html.contains(AppFailure.finalStepMessage), "\(unregistered.html.prefix(1500))")
        }
    }

    @Test func onlyTheAppsRolesSeeTheTabAndItsPages() async throws {
        try await withApp { fixture in
            _ = try await fixture.configureInsightsOnly()
            let incident = try await fixture.incident("Outlook keeps asking for password")
            let plain = try await fixture.signedIn("plain.agent")
            let form = try await plain.get("/incident.do?sys_id=\(incident)")
            #expect(form.status == .ok)
            #expect(!form.html.contains("x_mioms_m365_assis"))
            #expect(try await plain.get("/x_mioms_m365_assis_insights.do?sys_id=\(incident)").status == .forbidden)
            #expect(try await plain.get("/x_mioms_m365_assis_health.do").status == .forbidden)
            let agent = try await fixture.signedIn("agent")
            #expect(try await agent.get("/x_mioms_m365_assis_setup.do").status == .forbidden)
            #expect(try await agent.get("/x_mioms_m365_assis_insights.do?sys_id=nope").status == .badRequest)
            let missing = String(repeating: "0", count: 32)
            #expect(try await agent.get("/x_mioms_m365_assis_insights.do?sys_id=\(missing)").status == .notFound)
        }
    }

    @Test func theServiceHealthPagesListFilterAndShowThePostHistory() async throws {
        try await withApp { fixture in
            _ = try await fixture.configureInsightsOnly()
            let agent = try await fixture.signedIn("agent")
            let all = try await agent.get("/x_mioms_m365_assis_health.do")
            #expect(all.status == .ok)
            #expect(all.html.contains("EX1048213"))
            #expect(all.html.contains("TM1051207"))
            #expect(all.html.contains("id=\"recent-issues\""))
            let teams = try await agent.get("/x_mioms_m365_assis_health.do?service=Microsoft%20Teams")
            #expect(teams.html.contains("TM1051207"))
            #expect(!teams.html.contains("EX1048213"))
            let issue = try await agent.get("/x_mioms_m365_assis_health_issue.do?id=TM1051207")
            #expect(issue.status == .ok)
            #expect(issue.html.contains("id=\"issue-posts\""))
            #expect(issue.html.contains("<li><div class=\"meta\">"))
            #expect(try await agent.get("/x_mioms_m365_assis_health_issue.do?id=..%2Fx").status == .badRequest)
        }
    }

    @Test func theWizardPagesWalkInsightsOnlyAndExplainACrossScopeRefusal() async throws {
        try await withApp { fixture in
            let profile = try await fixture.createOutboundProvider()
            let admin = try await fixture.signedIn("admin.user")
            let start = try await admin.get("/x_mioms_m365_assis_setup.do")
            #expect(start.html.contains("Step 1: Consent"))
            let noConsent = try await admin.submit(
                "/x_mioms_m365_assis_setup.do", to: "/x_mioms_m365_assis_setup.do",
                [("step", "consent"), ("action", "next")])
            #expect(noConsent.status == .badRequest)
            #expect(noConsent.html.contains("id=\"setup-problem\""))
            let consent = try await admin.submit(
                "/x_mioms_m365_assis_setup.do", to: "/x_mioms_m365_assis_setup.do",
                [("step", "consent"), ("action", "next"), ("accept", "true")])
            #expect(consent.location == "/x_mioms_m365_assis_setup.do?step=outbound")

            let sql = try #require(fixture.desk.db as? any SQLDatabase)
            try await sql.update("desk_sys_scope_privilege").set("status", to: "denied")
                .where("target_name", .equal, "oauth_entity").run()
            let refused = try await admin.get("/x_mioms_m365_assis_setup.do?step=outbound")
            #expect(refused.html.contains("id=\"cross-scope-help\""))
            #expect(refused.html.contains("href=\"/sys_scope_privilege_list.do\""))
            try await sql.update("desk_sys_scope_privilege").set("status", to: "allowed")
                .where("target_name", .equal, "oauth_entity").run()

            let outboundPage = try await admin.get("/x_mioms_m365_assis_setup.do?step=outbound")
            #expect(outboundPage.html.contains("value=\"\(profile)\""))
            let page = "/x_mioms_m365_assis_setup.do?step=outbound"
            let outbound = try await admin.submit(
                page, to: "/x_mioms_m365_assis_setup.do",
                [
                    ("step", "outbound"), ("action", "next"), ("profile", profile),
                    ("connector_url", fixture.connectorURL),
                ])
            #expect(outbound.location == "/x_mioms_m365_assis_setup.do?step=inbound", "\(outbound.html.prefix(2000))")
            for (step, action, next) in [
                ("inbound", "skip", "user"), ("user", "next", "repository"), ("repository", "skip", "settings"),
                ("settings", "next", "complete"),
            ] {
                let answer = try await admin.submit(
                    "/x_mioms_m365_assis_setup.do?step=\(step)", to: "/x_mioms_m365_assis_setup.do",
                    [("step", step), ("action", action)])
                #expect(
                    answer.location == "/x_mioms_m365_assis_setup.do?step=\(next)",
                    "\(step): \(answer.html.prefix(1500))")
            }
            let completePage = try await admin.get("/x_mioms_m365_assis_setup.do?step=complete")
            #expect(completePage.html.contains("id=\"value-app_id\">\(fixture.outboundApp.appId)<"))
            #expect(!completePage.html.contains("id=\"value-endpoint\""))
            let early = try await admin.submit(
                "/x_mioms_m365_assis_setup.do?step=complete", to: "/x_mioms_m365_assis_setup.do",
                [("step", "complete"), ("action", "next")])
            #expect(early.status == .badRequest)
            #expect(early.html.contains("Organization profiles"))
            try await fixture.registerAppId(fixture.outboundApp.appId)
            let finished = try await admin.submit(
                "/x_mioms_m365_assis_setup.do?step=complete", to: "/x_mioms_m365_assis_setup.do",
                [("step", "complete"), ("action", "next")])
            #expect(finished.location == "/x_mioms_m365_assis_setup.do")
            let summary = try await admin.get("/x_mioms_m365_assis_setup.do")
            #expect(summary.html.contains("id=\"setup-mode\">Insights only<"))
        }
    }
}

@Suite("Microsoft 365 support app: pieces")
struct AppPieceTests {
    @Test func snippetsBecomeTextAndMarksNeverMarkup() {
        let parts = SnippetParts("Reset the <c0>sync</c0> &lt;client&gt;<ddd/><script>x</script>").parts
        #expect(parts.map(\.text) == ["Reset the ", "sync", " <client>", "…", "<script>x</script>"])
        #expect(parts.map(\.marked) == [false, true, false, false, false])
    }

    @Test func healthValuesReadAsWords() {
        #expect(HealthText.words("serviceDegradation") == "Service degradation")
        #expect(HealthText.words("") == "")
        #expect(
            HealthText.plain(GraphItemBody(contentType: "html", content: "<p>Title: A &amp; B</p><script>x</script>"))
                == "Title: A & B\nx")
    }

    @Test func onlyWebAddressesAndTheAppsPagesAreLinks() {
        #expect(InsightsPages.isSafeLink("https://learn.microsoft.com/a"))
        #expect(InsightsPages.isSafeLink("/x_mioms_m365_assis_health_issue.do?id=1"))
        #expect(!InsightsPages.isSafeLink("javascript:alert(1)"))
        #expect(!InsightsPages.isSafeLink("//evil.example/x"))
        #expect(!InsightsPages.isSafeLink("data:text/html,x"))
    }

    @Test func theModeFollowsTheInboundChoice() {
        var settings = AppSettings()
        #expect(settings.mode == nil)
        settings.inbound = AppSettings.Inbound.none
        #expect(settings.mode == .insightsOnly)
        #expect(InsightsPages.contactUnavailable(settings)?.contains("insights only") == true)
        settings.inbound = .client
        #expect(settings.mode == .basic)
        settings.inbound = .oidc
        #expect(settings.mode == .aad)
    }
}

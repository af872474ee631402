import Connector
import Foundation
import SQLKit
import ServerSupport
import TestSupport
import Testing
import Vapor
import VaporTesting
import WireModels

@testable import Connector
@testable import M365SupportApp
@testable import ServiceDesk

/// Contact Microsoft support from the incident, in the tab, over real HTTP between the three services.
@Suite("Microsoft 365 support app: cases from the incident", .serialized)
struct CaseTests {
    static func tab(_ incident: String) -> String {
        "/x_mioms_m365_assis_insights.do?sys_id=\(incident)&fragment=1"
    }

    /// The contact form's fields as the tab prefilled them, with `changes` applied.
    static func contactFields(_ html: String, _ changes: [String: String] = [:]) throws -> [(String, String)] {
        func value(_ name: String) throws -> String {
            let pattern = try Regex("name=\"\(name)\" value=\"([^\"]*)\"")
            guard let match = html.firstMatch(of: pattern), let text = match.output[1].substring else {
                throw TestFailure("no \(name) in the contact form")
            }
            return String(text)
        }
        var fields: [String: String] = [
            "sys_id": try value("sys_id"), "idempotency_key": try value("idempotency_key"),
            "title": try value("title"), "contact_email": try value("contact_email"),
            "description": "Messages to fabrikam.com arrive two to three hours late.",
            "severity": html.contains("<option value=\"A\" selected>") ? "A" : "B",
        ]
        for (key, change) in changes { fields[key] = change }
        return fields.map { ($0.key, $0.value) }
    }

    @Test func anAdministratorOpensACaseTheEngineersUpdatesBecomeWorkNotesAndRepliesReachTheConsole() async throws {
        try await withApp(listeningDesk: true) { fixture in
            let cases = try await fixture.configureBasic()
            let admin = try await fixture.signedIn("m365.admin")
            let tab = try await admin.get(Self.tab(cases.incidentId))
            #expect(tab.status == .ok)
            #expect(tab.html.contains("id=\"m365-contact-form\""))
            #expect(tab.html.contains("value=\"admin@contoso.onmicrosoft.com\""))
            #expect(tab.html.contains("From the app&#39;s Microsoft 365 administrator e-mail"))
            // The incident's priority 1 is Microsoft's severity A.
            #expect(tab.html.contains("<option value=\"A\" selected>"))
            #expect(tab.html.contains("test environment"))
            let fields = try Self.contactFields(tab.html)
            let opened = try await admin.submit(Self.tab(cases.incidentId), to: "/x_mioms_m365_assis_case.do", fields)
            #expect(opened.status == .seeOther, "\(opened.html)")
            // The same form sent twice (a double click, a retry) is one case.
            let again = try await admin.submit(Self.tab(cases.incidentId), to: "/x_mioms_m365_assis_case.do", fields)
            #expect(again.status == .seeOther)
            let stored = try await CaseStore(sql: fixture.desk.db.asSQL()).cases(incident: cases.incidentId)
            #expect(stored.count == 1)
            let number = try #require(stored.first?.number)
            #expect(stored.first?.severity == "A")
            #expect(stored.first?.testEnvironment == true)
            let atMicrosoft = try await ServiceRequestStore(database: fixture.connector.db, now: fixture.clock.provider)
                .require(tenant: fixture.tenantId, number: number)
            #expect(atMicrosoft.ticketNumber == cases.incidentNumber)
            #expect(atMicrosoft.contact.email == "admin@contoso.onmicrosoft.com")
            #expect(atMicrosoft.ticketUrl?.hasSuffix("/incident.do?sys_id=\(cases.incidentId)") == true)
            #expect(try await cases.workNotes().first?.contains("Microsoft support case \(number) opened") == true)

            try await cases.update(number, "We found a queue backlog on our side.", status: "inProgress")
            #expect(await cases.deliver() == 1)
            let notes = try await cases.workNotes()
            #expect(notes.count == 2)
            #expect(notes.last?.contains("We found a queue backlog on our side.") == true)
            #expect(notes.last?.contains("Status: In progress") == true)
            let withUpdate = try await admin.get(Self.tab(cases.incidentId))
            #expect(withUpdate.html.contains("We found a queue backlog on our side."))
            #expect(withUpdate.html.contains("In progress"))

            let replied = try await admin.submit(
                Self.tab(cases.incidentId), to: "/x_mioms_m365_assis_case_reply.do",
                [("sys_id", cases.incidentId), ("number", number), ("text", "Thanks, the queue is draining now.")])
            #expect(replied.status == .seeOther, "\(replied.html)")
            let thread =
                try await ServiceRequestStore(database: fixture.connector.db, now: fixture.clock.provider)
                .require(tenant: fixture.tenantId, number: number).updates ?? []
            #expect(thread.last?.from == "customer")
            #expect(thread.last?.text == "Thanks, the queue is draining now.")
            #expect(
                try await cases.workNotes().last?.contains("Reply sent to Microsoft support case \(number)") == true)

            // Resolved and reopened, the incident still shows its case and thread.
            for state in ["6", "2"] {
                var fields: [String: Any] = ["state": state]
                if state == "6" {
                    fields["close_code"] = "Solved (Permanently)"
                    fields["close_notes"] = "Queue drained."
                }
                let changed = try await fixture.table(
                    .PATCH, "incident/\(cases.incidentId)", as: "admin.user", json: fields)
                #expect(changed.status == .ok, "\(changed.body.string)")
            }
            let reopened = try await admin.get(Self.tab(cases.incidentId))
            #expect(reopened.html.contains("id=\"m365-case-\(number)\""))
            #expect(reopened.html.contains("Thanks, the queue is draining now."))
        }
    }

    @Test func aContactWhoIsNotAnAdministratorGetsTheGuidesMessage() async throws {
        try await withApp(listeningDesk: true) { fixture in
            let cases = try await fixture.configureBasic()
            let admin = try await fixture.signedIn("m365.admin")
            let tab = try await admin.get(Self.tab(cases.incidentId))
            let refused = try await admin.submit(
                Self.tab(cases.incidentId), to: "/x_mioms_m365_assis_case.do",
                try Self.contactFields(tab.html, ["contact_email": "lee@contoso.onmicrosoft.com"]))
            #expect(refused.status == .forbidden)
            #expect(
                refused.html.contains(
                    "lee@contoso.onmicrosoft.com is not a valid Microsoft 365 administrator account. A Microsoft 365 "
                        + "administrator is needed to open a service request. Link an administrator account in the app."
                ))
            #expect(refused.html.contains("system log entry"))
            #expect(try await CaseStore(sql: fixture.desk.db.asSQL()).cases(incident: cases.incidentId).isEmpty)
            // What the agent entered stays in the form.
            #expect(refused.html.contains("value=\"lee@contoso.onmicrosoft.com\""))
        }
    }

    @Test func linkAccountShowsTheVerdictAndBecomesTheDefaultContact() async throws {
        try await withApp(listeningDesk: true) { fixture in
            let cases = try await fixture.configureBasic()
            let admin = try await fixture.signedIn("m365.admin")
            let page = try await admin.get("/x_mioms_m365_assis_account.do")
            #expect(page.status == .ok)
            let notAdmin = try await admin.submit(
                "/x_mioms_m365_assis_account.do", to: "/x_mioms_m365_assis_account.do",
                [("action", "link"), ("email", "lee@contoso.onmicrosoft.com")])
            #expect(notAdmin.status == .seeOther)
            let verdict = try await admin.get("/x_mioms_m365_assis_account.do")
            #expect(verdict.html.contains("lee@contoso.onmicrosoft.com is not a valid Microsoft 365 administrator"))
            _ = try await admin.submit(
                "/x_mioms_m365_assis_account.do", to: "/x_mioms_m365_assis_account.do",
                [("action", "link"), ("email", "admin@contoso.onmicrosoft.com")])
            let good = try await admin.get("/x_mioms_m365_assis_account.do")
            #expect(
                good.html.contains(
                    "admin@contoso.onmicrosoft.com is a Microsoft 365 administrator (Global Administrator)"))
            let tab = try await admin.get(Self.tab(cases.incidentId))
            #expect(tab.html.contains("From your linked account"))
            // Insights users may not link accounts or open cases; they see why.
            let agent = try await fixture.signedIn("agent")
            #expect(try await agent.get("/x_mioms_m365_assis_account.do").status == .forbidden)
            let agentTab = try await agent.get(Self.tab(cases.incidentId))
            #expect(agentTab.html.contains("needs the Microsoft 365 support administrator role"))
            #expect(!agentTab.html.contains("m365-contact-form"))
        }
    }
}

@Suite("Microsoft 365 support app: the case store")
struct CaseStoreTests {
    @Test func aCaseAnEventCreatedFirstGetsItsDetailsWhenTheDeskKeepsIt() async throws {
        try await withApp { fixture in
            let sql = try fixture.desk.db.asSQL()
            let now = Date()
            func request(title: String, email: String) -> ServiceRequest {
                ServiceRequest(
                    number: "SR0000007", tenantId: "t", repositoryId: "r", ticketNumber: "INC0010001", ticketUrl: nil,
                    title: title, description: "", severity: "B", status: "inProgress", contact: .init(email: email),
                    testEnvironment: true, createdAt: now, updatedAt: now, updates: nil)
            }
            try await CaseStore.keep(
                request(title: "Microsoft support case SR0000007", email: ""), incident: "i", openedBy: "", at: now,
                sql: sql)
            try await CaseStore.keep(
                request(title: "Mail delayed", email: "admin@contoso.onmicrosoft.com"), incident: "i",
                openedBy: "David Loo", at: now, sql: sql)
            let kept = try #require(try await CaseStore(sql: sql).find(number: "SR0000007"))
            #expect(kept.title == "Mail delayed")
            #expect(kept.contactEmail == "admin@contoso.onmicrosoft.com")
            #expect(kept.openedBy == "David Loo")
            // A kept case is not overwritten by a later keep.
            try await CaseStore.keep(
                request(title: "Other", email: "other@contoso.onmicrosoft.com"), incident: "i", openedBy: "X", at: now,
                sql: sql)
            #expect(try await CaseStore(sql: sql).find(number: "SR0000007")?.title == "Mail delayed")
        }
    }
}

/// The inbound API's refusals and its exactly-once receipt.
@Suite("Microsoft 365 support app: the inbound API", .serialized)
struct InboundAPITests {
    static func event(
        _ setup: CaseSetup, number: String = "SR0000099", id: String = UUID().uuidString.lowercased(),
        sequence: Int = 1, text: String = "Looking into it.", repository: String = "contoso-desk"
    ) -> ServiceRequestEvent {
        ServiceRequestEvent(
            eventId: id, type: ServiceRequestEvent.updatedType, occurredAt: Date(), tenantId: setup.fixture.tenantId,
            repositoryId: repository,
            serviceRequest: .init(
                number: number, ticketNumber: setup.incidentNumber, status: "inProgress", severity: "B"),
            update: .init(
                id: id, sequence: sequence, from: "support", author: "Alex Engineer", text: text, status: "inProgress",
                createdAt: Date()))
    }

    static func post(_ fixture: AppFixture, _ event: ServiceRequestEvent?, raw: String? = nil, headers: HTTPHeaders)
        async throws -> TestingHTTPResponse
    {
        var headers = headers
        headers.contentType = .json
        let encoder = JSONEncoder()
        encoder.dateEncodingStrategy = .iso8601
        let body = try raw.map { ByteBuffer(string: $0) } ?? ByteBuffer(data: try encoder.encode(event))
        return try await fixture.desk.testing().sendRequest(
            .POST, M365SupportScope.inboundEvents, headers: headers, body: body)
    }

    /// The newest system log message of the app.
    static func lastLog(_ fixture: AppFixture) async throws -> String {
        try await fixture.desk.db.asSQL().select().column("message").from("desk_syslog")
            .where("source", .equal, M365SupportScope.name).orderBy(SQLRaw("rowid"), SQLDirection.descending)
            .first()?.decode(column: "message", as: String.self) ?? ""
    }

    @Test func theIntegrationUserIsAppliedOnceAndEveryoneElseIsRefusedWithAReason() async throws {
        try await withApp(listeningDesk: true) { fixture in
            let setup = try await fixture.configureBasic()
            let event = Self.event(setup)
            let integration = AppFixture.basic("integration.user")
            let first = try await Self.post(fixture, event, headers: integration)
            #expect(first.status == .ok, "\(first.body.string)")
            #expect(first.json["result"]?["applied"] as? Bool == true)
            let second = try await Self.post(fixture, event, headers: integration)
            #expect(second.status == .ok)
            #expect(second.json["result"]?["applied"] as? Bool == false)
            #expect(try await setup.workNotes().count == 1)
            #expect(try await setup.thread("SR0000099").count == 1)

            let agent = try await Self.post(fixture, Self.event(setup), headers: AppFixture.basic("agent"))
            #expect(agent.status == .forbidden)
            #expect(agent.body.string.contains("is not the app's integration user"))
            #expect(try await Self.lastLog(fixture).contains("agent is not the integration user"))

            var wrong = HTTPHeaders()
            wrong.basicAuthorization = BasicAuthorization(username: "integration.user", password: "wrong")
            let badPassword = try await Self.post(fixture, Self.event(setup), headers: wrong)
            #expect(badPassword.status == .unauthorized)
            #expect(try await Self.lastLog(fixture).contains("wrong user name or password"))

            let garbage = try await Self.post(fixture, nil, raw: #"{"eventId": 7}"#, headers: integration)
            #expect(garbage.status == .badRequest)
            #expect(garbage.body.string.contains("\"status\":\"failure\""))
            var mismatched = Self.event(setup)
            mismatched.update.id = "another"
            #expect(try await Self.post(fixture, mismatched, headers: integration).status == .badRequest)
            let otherRepository = try await Self.post(
                fixture, Self.event(setup, repository: "someone-else"), headers: integration)
            #expect(otherRepository.status == .badRequest)
            var unknownIncident = Self.event(setup, number: "SR0000100")
            unknownIncident.serviceRequest.ticketNumber = "INC9999999"
            let unknown = try await Self.post(fixture, unknownIncident, headers: integration)
            #expect(unknown.status == .badRequest)
            #expect(unknown.body.string.contains("no incident INC9999999"))

            // A user who may sign in interactively is refused as integration user.
            let user = try #require(
                try await fixture.table(.GET, "sys_user?sysparm_query=user_name=integration.user", as: "admin.user")
                    .jsonArray.first?["sys_id"] as? String)
            _ = try await fixture.table(
                .PATCH, "sys_user/\(user)", as: "admin.user", json: ["web_service_access_only": "false"])
            let interactive = try await Self.post(fixture, Self.event(setup), headers: integration)
            #expect(interactive.status == .forbidden)
            #expect(interactive.body.string.contains("not web-service-only"))
            #expect(try await Self.lastLog(fixture).contains("is not web-service-only"))
        }
    }

    @Test func theIPAllowListRefusesOtherAddressesWithAClear403() async throws {
        try await withApp(listeningDesk: true) { fixture in
            let setup = try await fixture.configureBasic()
            let bad = try await fixture.setup(
                .PUT, "/settings", json: ["ipAllowListEnabled": true, "ipAllowList": "10.0.0.0/8, not-an-address"])
            #expect(bad.status == .badRequest)
            #expect(bad.errorMessage?.contains("not-an-address") == true)
            try await fixture.expectOK(
                try await fixture.setup(
                    .PUT, "/settings", json: ["ipAllowListEnabled": true, "ipAllowList": "10.0.0.0/8"]))
            let refused = try await Self.post(fixture, Self.event(setup), headers: AppFixture.basic("integration.user"))
            #expect(refused.status == .forbidden)
            #expect(refused.body.string.contains("inbound IP allow-list"))
            #expect(try await Self.lastLog(fixture).contains("IP allow-list"))
            // The Connector calls from loopback here: with the default list it is delivered.
            try await fixture.expectOK(
                try await fixture.setup(.PUT, "/settings", json: ["ipAllowList": AppSettings.defaultAllowList]))
            let number = try await setup.caseDirectly()
            try await setup.update(number, "Allowed")
            #expect(await setup.deliver() == 1)
            #expect(try await setup.states() == ["sent"])
        }
    }

    @Test func insightsOnlyTakesNoInboundCalls() async throws {
        try await withApp { fixture in
            _ = try await fixture.configureInsightsOnly()
            var headers = AppFixture.basic("admin.user")
            headers.contentType = .json
            let refused = try await fixture.desk.testing().sendRequest(
                .POST, M365SupportScope.inboundEvents, headers: headers, body: ByteBuffer(string: "{}"))
            #expect(refused.status == .forbidden)
            #expect(refused.body.string.contains("insights only"))
        }
    }
}

@Suite("Microsoft 365 support app: addresses")
struct AddressRangeTests {
    @Test func rangesHoldTheirAddressesOnly() {
        let v4 = try! #require(AddressRange("40.96.0.0/13"))
        #expect(v4.contains("40.103.255.1"))
        #expect(!v4.contains("40.104.0.1"))
        #expect(v4.contains("::ffff:40.96.1.1"))
        let v6 = try! #require(AddressRange("2603:1006::/40"))
        #expect(v6.contains("2603:1006:0:1::5"))
        #expect(!v6.contains("2603:1007::1"))
        #expect(AddressRange("127.0.0.1")?.contains("127.0.0.1") == true)
        for bad in ["", "1.2.3.4/33", "300.1.1.1", "abc", "1.2.3.4/-1", "::1/129", "1.2.3.4/8/9", "fe80::1%eth0"] {
            #expect(AddressRange(bad) == nil, "\(bad)")
        }
        let (list, invalid) = AddressAllowList.parse("10.0.0.0/8,\n::1/128 bogus")
        #expect(list.ranges.count == 2)
        #expect(invalid == ["bogus"])
        #expect(!list.allows(nil))
    }
}

/// The wizard's inbound and integration-user steps refuse what cannot work, saying why.
@Suite("Microsoft 365 support app: the wizard's cases steps", .serialized)
struct CasesWizardTests {
    @Test func theBasicStepsRefuseAnInteractiveUserAndAnInactiveClient() async throws {
        try await withApp { fixture in
            let profile = try await fixture.createOutboundProvider()
            try await fixture.expectOK(try await fixture.setup(.POST, "/consent", json: [:]))
            try await fixture.expectOK(try await fixture.setup(.PUT, "/outbound", json: ["profile": profile]))
            let unknown = try await fixture.setup(.PUT, "/inbound", json: ["choice": "client", "entity": "nope"])
            #expect(unknown.status == .badRequest)
            let directory = DeskDirectory(app: fixture.desk)
            let client = try await directory.createInboundEntity(name: "Inbound for the wizard")
            try await fixture.expectOK(
                try await fixture.setup(
                    .PUT, "/inbound", json: ["choice": "client", "entity": "Inbound for the wizard"]))
            // The user step's page offers the active web-service-only users (read in one go), no interactive one.
            let userStep = try await fixture.signedIn("admin.user").get("/x_mioms_m365_assis_setup.do?step=user")
            #expect(userStep.status == .ok)
            #expect(userStep.html.contains("m365.integration"), "\(userStep.html.prefix(2000))")
            #expect(!userStep.html.contains(">agent<") && !userStep.html.contains("plain.agent"))
            let interactive = try await fixture.setup(.PUT, "/user", json: ["user": "agent"])
            #expect(interactive.status == .badRequest)
            #expect(interactive.errorMessage?.contains("agent may sign in interactively") == true)
            let missing = try await fixture.setup(.PUT, "/user", json: ["user": "nobody.here"])
            #expect(missing.errorMessage?.contains("no active desk user nobody.here") == true)
            try await fixture.expectOK(try await fixture.setup(.PUT, "/user", json: ["user": "m365.integration"]))
            // Finish before the repository: the step names what is missing.
            let early = try await fixture.setup(.POST, "/complete")
            #expect(early.errorMessage?.contains("repository ID (step 5)") == true)
            try await fixture.expectOK(try await fixture.setup(.PUT, "/repository", json: ["repositoryId": "desk-1"]))
            let state = try await fixture.setup(.GET)
            let values = try #require(state.json["result"]?["adminCenter"] as? [String: String])
            #expect(values["Client ID"] == client.clientId)
            #expect(values["Username"] == "m365.integration")
            #expect(values["Endpoint"] == AppFixture.deskURL)
            // The Connector checks the values against the profile: no repository there yet.
            try await fixture.registerAppId(fixture.outboundApp.appId)
            let unregistered = try await fixture.setup(.POST, "/complete")
            #expect(unregistered.status == .badRequest)
            // A deactivated client is refused.
            let entity = try #require(
                try await fixture.table(
                    .GET,
                    "oauth_entity?sysparm_query=name=Inbound for the wizard".addingPercentEncoding(
                        withAllowedCharacters: .urlQueryAllowed)!, as: "admin.user"
                ).jsonArray.first?["sys_id"] as? String)
            _ = try await fixture.table(.PATCH, "oauth_entity/\(entity)", as: "admin.user", json: ["active": "false"])
            let inactive = try await fixture.setup(.PUT, "/inbound", json: ["choice": "client", "entity": entity])
            #expect(inactive.errorMessage?.contains("is not active") == true)
        }
    }

    @Test func theAADStepChecksTheMetadataAndTheClaimMapping() async throws {
        try await withApp { fixture in
            let profile = try await fixture.createOutboundProvider()
            try await fixture.expectOK(try await fixture.setup(.POST, "/consent", json: [:]))
            try await fixture.expectOK(try await fixture.setup(.PUT, "/outbound", json: ["profile": profile]))
            let directory = DeskDirectory(app: fixture.desk)
            func oidc(_ name: String, metadata: String, claim: String = "appid") async throws {
                let config = try await directory.insert(
                    DeskTables.oidcProviderConfiguration,
                    [
                        "oidc_provider": name, "oidc_metadata_url": metadata, "user_claim": claim,
                        "user_field": "user_id",
                    ])
                try await directory.insert(
                    DeskTables.oauthEntity,
                    [
                        "name": name, "type": "oidc_provider", "client_id": UUID().uuidString.lowercased(),
                        "oidc_provider_configuration": (config["sys_id"] ?? nil) ?? "",
                    ])
            }
            let good = "\(fixture.identityURL)/\(fixture.tenantId)/.well-known/openid-configuration"
            try await oidc("Wrong claim", metadata: good, claim: "sub")
            try await oidc("Nothing there", metadata: "\(fixture.identityURL)/nothing/here")
            try await oidc(
                "Other tenant",
                metadata: "\(fixture.identityURL)/\(UUID().uuidString.lowercased())/.well-known/openid-configuration")
            try await oidc("Contoso", metadata: good)
            let claim = try await fixture.setup(.PUT, "/inbound", json: ["choice": "oidc", "entity": "Wrong claim"])
            #expect(claim.errorMessage?.contains("set User Claim to appid") == true)
            let nothing = try await fixture.setup(
                .PUT, "/inbound", json: ["choice": "oidc", "entity": "Nothing there"])
            #expect(nothing.errorMessage?.contains("not an OpenID Connect metadata document") == true)
            let other = try await fixture.setup(.PUT, "/inbound", json: ["choice": "oidc", "entity": "Other tenant"])
            #expect(other.status == .badRequest)
            try await fixture.expectOK(
                try await fixture.setup(.PUT, "/inbound", json: ["choice": "oidc", "entity": "Contoso"]))
            let app = UUID().uuidString.lowercased()
            let notCreated = try await fixture.setup(.PUT, "/user", json: ["restUserApp": app])
            #expect(notCreated.errorMessage?.contains("Tick Create the integration user") == true)
            try await fixture.expectOK(
                try await fixture.setup(.PUT, "/user", json: ["restUserApp": app, "createUser": true]))
            let user = try await fixture.table(.GET, "sys_user?sysparm_query=user_name=\(app)", as: "admin.user")
            #expect(user.jsonArray.first?["web_service_access_only"] as? String == "true")
        }
    }
}

@Suite("Microsoft 365 support app: Sign in with Microsoft")
struct SSOTests {
    @Test func theOptionAppearsWithTheSettingAndTheFlowIsBoundToItsStart() async throws {
        try await withApp(listeningDesk: true) { fixture in
            _ = try await fixture.configureBasic()
            let browser = WebBrowser(fixture.desk)
            #expect(!(try await browser.get("/login.do")).html.contains("Sign in with Microsoft"))
            #expect(try await browser.get("/x_mioms_m365_assis_sso.do").status == .notFound)
            try await fixture.expectOK(try await fixture.setup(.PUT, "/settings", json: ["ssoEnabled": true]))
            let login = try await browser.get("/login.do?sysparm_goto=/incident_list.do")
            #expect(login.html.contains("Sign in with Microsoft"))
            #expect(login.html.contains("/x_mioms_m365_assis_sso.do?sysparm_goto=%2Fincident%5Flist%2Edo"))
            let start = try await browser.get("/x_mioms_m365_assis_sso.do?sysparm_goto=/incident_list.do")
            #expect(start.status == .seeOther)
            let location = try #require(start.location)
            #expect(location.hasPrefix("\(fixture.identityURL)/\(fixture.tenantId)/oauth2/v2.0/authorize?"))
            let query = try #require(URLComponents(string: location)?.queryItems)
            func item(_ name: String) -> String? { query.first { $0.name == name }?.value }
            #expect(item("client_id") == fixture.outboundApp.appId)
            #expect(item("code_challenge_method") == "S256")
            #expect(item("code_challenge")?.count == 43)
            #expect(item("redirect_uri") == "\(try #require(fixture.deskListenURL))/x_mioms_m365_assis_sso_callback.do")
            #expect(item("nonce")?.isEmpty == false)
            // A callback whose state is not this browser's start is refused before any token request.
            let forged = try await browser.get("/x_mioms_m365_assis_sso_callback.do?code=abc&state=forged")
            #expect(forged.status == .badRequest)
            #expect(forged.html.contains("did not start on this desk"))
            let other = WebBrowser(fixture.desk)
            let state = try #require(item("state"))
            let stolen = try await other.get("/x_mioms_m365_assis_sso_callback.do?code=abc&state=\(state)")
            #expect(stolen.status == .badRequest)
            // The authority's refusal is shown with its log entry.
            let refused = try await browser.get(
                "/x_mioms_m365_assis_sso_callback.do?error=access_denied&error_description=declined&state=\(state)")
            #expect(refused.html.contains("Microsoft did not sign you in (access_denied)"))
            #expect(refused.html.contains("system log entry"))
        }
    }
}

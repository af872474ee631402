import Foundation
import SQLKit
import TestSupport
import Testing
import Vapor
import VaporTesting
import WireModels

@testable import M365SupportApp

@Suite("Microsoft 365 support app: bad input never crashes or leaks")
struct AppRobustnessTests {
    @Test func malformedSetupBodiesAndQueriesAreClearRefusals() async throws {
        try await withApp { fixture in
            _ = try await fixture.configureInsightsOnly()
            var random = SeededRandom(seed: 11)
            let alphabet = Array(#"{}[]":,profile choice none 0123456789.-\"#.utf8) + [0x00, 0xff, 0xc3]
            let bodies = [
                "", "{", "[]", "null", #"{"profile": 12}"#,
                #"{"connectorUrl": "\#(String(repeating: "a", count: 5000))"}"#,
                #"{"repositoryId": "../../etc"}"#, #"{"adminEmail": "a@b"}"#, #"{"choice": "everything"}"#,
                #"{"ssoEnabled": "yes"}"#, "\u{0}\u{1}\u{2}",
            ]
            for path in ["/outbound", "/inbound", "/user", "/repository", "/settings"] {
                for body in bodies
                    + (0..<8).map({ _ in String(decoding: random.bytes(from: alphabet, maxLength: 200), as: UTF8.self) }
                    )
                {
                    var headers = AppFixture.basic("admin.user")
                    headers.contentType = .json
                    let answer = try await fixture.desk.testing().sendRequest(
                        .PUT, "/api/x_mioms_m365_assis/v1/setup" + path, headers: headers,
                        body: ByteBuffer(string: body))
                    #expect(answer.status.code < 500, "\(path) \(body.prefix(40)): \(answer.status)")
                    if answer.status != .ok {
                        #expect(answer.errorMessage?.isEmpty == false, "\(path): \(answer.body.string)")
                    }
                }
            }
            let agent = try await fixture.signedIn("agent")
            let incident = try await fixture.incident("Outlook keeps asking for password")
            for query in [
                String(repeating: "outlook ", count: 4000), "%00%01", "%E2%80%AE%F0%9F%98%80", "^ORDERBYnumber",
                "<script>alert(1)</script>",
            ] {
                let page = try await agent.get(
                    "/x_mioms_m365_assis_insights.do?sys_id=\(incident)&fragment=1&q=\(query)")
                #expect(page.status == .ok, "\(query.prefix(30)): \(page.status)")
                #expect(!page.html.contains("<script>alert"))
            }
            // Sign in with Microsoft's callback and the user picker take anything without a 5xx.
            let stranger = WebBrowser(fixture.desk)
            for query in [
                "", "state=%00", "code=\(String(repeating: "c", count: 10_000))&state=x", "error=%E2%80%AE&state=1",
                "code=a&state=a&state=b",
            ] {
                let answer = try await stranger.get("/x_mioms_m365_assis_sso_callback.do?\(query)")
                #expect(answer.status.code < 500, "\(query.prefix(40)): \(answer.status)")
            }
            for query in [
                "q=%25%25%25", "q=%00", "field=caller_id&q=\(String(repeating: "%5C", count: 300))", "field=",
            ] {
                let answer = try await agent.get("/sys_user_reference.do?\(query)")
                #expect(answer.status.code < 500, "\(query.prefix(40)): \(answer.status)")
            }
            for id in ["", "%27%20OR%201=1", String(repeating: "x", count: 500), "EX1048213%0A"] {
                #expect(try await agent.get("/x_mioms_m365_assis_health_issue.do?id=\(id)").status == .badRequest)
            }
            #expect(
                try await agent.get("/x_mioms_m365_assis_insights.do?sys_id=\(incident)%5Eactive=true").status
                    == .badRequest)
        }
    }

    @Test func malformedEventsAndCaseFormsAreClearRefusalsAndChangeNothing() async throws {
        try await withApp(listeningDesk: true) { fixture in
            let setup = try await fixture.configureBasic()
            let valid =
                #"{"eventId":"e1","type":"serviceRequest.updated","occurredAt":"2026-12-01T10:00:00Z","tenantId":"t","repositoryId":"contoso-desk","serviceRequest":{"number":"SR1","ticketNumber":"\#(setup.incidentNumber)","status":"new","severity":"B"},"update":{"id":"e1","sequence":1,"from":"support","author":"A","text":"T","createdAt":"2026-12-01T10:00:00Z"}}"#
            var random = SeededRandom(seed: 23)
            let alphabet = Array(valid.utf8) + [0x00, 0xff, 0xc3, 0x22, 0x7b]
            var bodies = [
                "", "{", "[]", "null", "\u{0}", String(repeating: "[", count: 5000),
                valid.replacingOccurrences(of: #""sequence":1"#, with: #""sequence":99999999999999999999999"#),
                valid.replacingOccurrences(of: #""sequence":1"#, with: #""sequence":-5"#),
                valid.replacingOccurrences(of: #""status":"new""#, with: #""status":"exploded""#),
                valid.replacingOccurrences(
                    of: #""text":"T""#, with: #""text":"\#(String(repeating: "x", count: 40_000))""#),
                valid.replacingOccurrences(
                    of: #""number":"SR1""#, with: #""number":"\#(String(repeating: "9", count: 300))""#),
                valid.replacingOccurrences(of: "\(setup.incidentNumber)", with: "INC^ORDERBYnumber"),
            ]
            for _ in 0..<40 {
                var bytes = Array(valid.utf8)
                for _ in 0..<3 {
                    let index = Int.random(in: 0..<bytes.count, using: &random)
                    bytes[index] = alphabet[Int.random(in: 0..<alphabet.count, using: &random)]
                }
                bodies.append(String(decoding: bytes, as: UTF8.self))
            }
            for body in bodies {
                var headers = AppFixture.basic("integration.user")
                headers.contentType = .json
                let answer = try await fixture.desk.testing().sendRequest(
                    .POST, M365SupportScope.inboundEvents, headers: headers, body: ByteBuffer(string: body))
                #expect(answer.status.code < 500, "\(body.prefix(60)): \(answer.status) \(answer.body.string)")
                if answer.status != .ok {
                    #expect(answer.body.string.contains("\"status\":\"failure\""), "\(answer.body.string)")
                }
            }
            // Only well-formed events were applied, each once; the incident still reads.
            let thread = try await setup.thread("SR1")
            #expect(Set(thread.map(\.id)).count == thread.count)
            #expect(try await fixture.table(.GET, "incident/\(setup.incidentId)", as: "admin.user").status == .ok)

            let admin = try await fixture.signedIn("m365.admin")
            let page = "/x_mioms_m365_assis_insights.do?sys_id=\(setup.incidentId)&fragment=1"
            for fields in [
                [
                    ("sys_id", setup.incidentId), ("title", ""), ("description", "d"), ("severity", "B"),
                    ("contact_email", "admin@contoso.onmicrosoft.com"),
                ],
                [
                    ("sys_id", setup.incidentId), ("title", "t"), ("description", "d"), ("severity", "Z"),
                    ("contact_email", "admin@contoso.onmicrosoft.com"),
                ],
                [
                    ("sys_id", setup.incidentId), ("title", "t"), ("description", "d"), ("severity", "A"),
                    ("contact_email", "not an address"),
                ],
                [
                    ("sys_id", setup.incidentId), ("title", String(repeating: "t", count: 300)), ("description", "d"),
                    ("severity", "A"), ("contact_email", "admin@contoso.onmicrosoft.com"),
                ],
                [
                    ("sys_id", setup.incidentId), ("title", "t"), ("description", "d"), ("severity", "A"),
                    ("contact_email", "admin@contoso.onmicrosoft.com"), ("idempotency_key", "../../x"),
                ],
                [("sys_id", "^active=true"), ("title", "t")],
            ] {
                let answer = try await admin.submit(page, to: "/x_mioms_m365_assis_case.do", fields)
                #expect((400..<500).contains(answer.status.code), "\(fields): \(answer.status)")
            }
            #expect(try await CaseStore(sql: fixture.desk.db.asSQL()).cases(incident: setup.incidentId).isEmpty)
            for fields in [
                [("sys_id", setup.incidentId), ("number", "SR404"), ("text", "x")],
                [("sys_id", setup.incidentId), ("number", String(repeating: "S", count: 100)), ("text", "x")],
            ] {
                let answer = try await admin.submit(page, to: "/x_mioms_m365_assis_case_reply.do", fields)
                #expect(answer.status == .notFound, "\(fields): \(answer.status)")
            }
        }
    }
}

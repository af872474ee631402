import Foundation
import TestSupport
import Testing
import Vapor
import VaporTesting

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
            for path in ["/outbound", "/inbound", "/repository", "/settings"] {
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
            for id in ["", "%27%20OR%201=1", String(repeating: "x", count: 500), "EX1048213%0A"] {
                #expect(try await agent.get("/x_mioms_m365_assis_health_issue.do?id=\(id)").status == .badRequest)
            }
            #expect(
                try await agent.get("/x_mioms_m365_assis_insights.do?sys_id=\(incident)%5Eactive=true").status
                    == .badRequest)
        }
    }
}

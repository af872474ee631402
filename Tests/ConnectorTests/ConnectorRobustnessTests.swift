import Foundation
import TestSupport
import Testing
import Vapor
import VaporTesting
import WireModels

@testable import Connector

/// Hostile input answers 4xx in the interface's shape, never a 500 or a trap.
@Suite struct ConnectorRobustnessTests {
    @Test func randomQueryStringsAndBodiesNeverFail() async throws {
        try await withConnector { fx in
            let reader = try await fx.token(fx.healthReader)
            let desk = try await fx.token(fx.deskApp)
            var random = SeededRandom(seed: 0xC0FFEE)
            let queryAlphabet = Array(
                "$filter=orderby&select,top=skip%20'()eqandor2026-01-01T00:00:00Zservice\u{7f}%FF+".utf8)
            for _ in 0..<300 {
                let query =
                    String(decoding: random.bytes(from: queryAlphabet, maxLength: 80), as: UTF8.self)
                    .addingPercentEncoding(withAllowedCharacters: .urlQueryAllowed.subtracting(["#"])) ?? ""
                let response = try await fx.get("/\(ConnectorPath.issues)?\(query)", token: reader)
                #expect([.ok, .badRequest].contains(response.status), "\(query): \(response.body.string)")
                if response.status == .badRequest {
                    #expect((response.jsonObject["error"] as? [String: Any])?["code"] as? String == "BadRequest")
                }
            }
            // The desk's app as the profile's App ID, so recommended solutions reads what it is sent.
            _ = try await fx.admin(
                .PATCH, "/tenants/\(fx.tenantId)/profile",
                json: #"{"supportTool":"servicenow","appId":"\#(fx.deskApp.appId)"}"#)
            let textAlphabet = Array(
                #"{}":,texproduc 0123456789.-'’\u00e9\ud83d\"outlook 0x80 aadsts5007 <c0>&é😀\#u{301}"#.utf8)
            for _ in 0..<300 {
                let text = String(decoding: random.bytes(from: textAlphabet, maxLength: 200), as: UTF8.self)
                for body in [text, #"{"text":"\#(text)","top":3}"#] {
                    let response = try await fx.send(
                        .POST, "/" + ConnectorPath.recommendedSolutions, token: desk, json: body)
                    #expect([.ok, .badRequest].contains(response.status), "\(body): \(response.body.string)")
                }
            }
            let jsonAlphabet = Array(
                #"{}[]":,0123456789.eE+-truefalsenullrepositoryIdendpointauthenticationTypebasicaad\u"#.utf8)
            for _ in 0..<300 {
                let body = String(decoding: random.bytes(from: jsonAlphabet, maxLength: 120), as: UTF8.self)
                for path in ["/" + ConnectorPath.integrationCheck, "/admin/api/tenants/\(fx.tenantId)/health/issues"] {
                    let token = path.hasPrefix("/admin") ? ConnectorFixture.adminToken : desk
                    let response = try await fx.send(.POST, path, token: token, json: body)
                    #expect(response.status.code < 500, "\(path) \(body): \(response.body.string)")
                    #expect(response.headers.contentType?.subType != "html")
                }
            }
        }
    }
}

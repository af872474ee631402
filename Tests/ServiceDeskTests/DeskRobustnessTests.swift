import Foundation
import ServerSupport
import Synchronization
import TestSupport
import Testing
import Vapor
import VaporTesting

@testable import ServiceDesk

/// Input that once trapped, crashed or slipped through: each answered in the interface's own shape, and the
/// desk still serving afterwards.
@Suite("Desk robustness: numbers, queries, bodies, passwords, throttling")
struct DeskRobustnessTests {
    /// The desk answers a plain read after `check`: nothing above took it down.
    func stillServing(_ app: Application) async throws {
        let res = try await app.table(.GET, "incident?sysparm_limit=1", as: "agent")
        #expect(res.status == .ok)
    }

    func raw(_ app: Application, _ method: HTTPMethod, _ path: String, as user: String = "agent", body: String? = nil)
        async throws -> TestingHTTPResponse
    {
        var headers = DeskFixture.basic(user)
        if body != nil { headers.contentType = .json }
        return try await app.testing().sendRequest(
            method, path, headers: headers, body: body.map { ByteBuffer(string: $0) })
    }

    @Test(arguments: [
        "sysparm_offset=1&sysparm_limit=9223372036854775807",
        "sysparm_offset=9223372036854775807&sysparm_limit=9223372036854775807",
        "sysparm_offset=9223372036854775806&sysparm_limit=2",
        "sysparm_limit=99999999999999999999999999",
        "sysparm_offset=99999999999999999999999999",
    ])
    func hugeLimitsAndOffsetsNeverTrap(query: String) async throws {
        try await withDesk { app, _ in
            let res = try await raw(app, .GET, "/api/now/table/incident?" + query)
            #expect(res.status == .ok, "\(res.body.string)")
            #expect(res.headers.first(name: "X-Total-Count") != nil)
            try await stillServing(app)
        }
    }

    @Test func aPageIsCutToTheMaximumPageSize() async throws {
        try await withDesk { app, fx in
            for index in 0..<3 {
                _ = try await app.table(
                    .POST, "incident", as: "agent", json: ["short_description": "p\(index)", "caller_id": fx.callerId])
            }
            app.desk = DeskContext(
                config: {
                    var config = app.desk.config
                    config.maxPageSize = 2
                    return config
                }(), authenticator: app.desk.authenticator, http: app.desk.http, oidcCache: app.desk.oidcCache,
                jobs: app.desk.jobs)
            let res = try await raw(app, .GET, "/api/now/table/incident?sysparm_limit=9223372036854775807")
            #expect(res.status == .ok)
            #expect(res.results.count == 2)
            #expect(res.headers.first(name: .link)?.contains("sysparm_limit=2") == true)
            let unlimited = try await raw(app, .GET, "/api/now/table/incident")
            #expect(unlimited.results.count == 2)
        }
    }

    @Test(arguments: [
        "sysparm_offset=-1", "sysparm_offset=-9223372036854775808", "sysparm_limit=-5", "sysparm_limit=0",
    ])
    func negativeOffsetsAndLimitsAre400s(query: String) async throws {
        try await withDesk { app, _ in
            let res = try await raw(app, .GET, "/api/now/table/incident?" + query)
            #expect(res.status == .badRequest)
            #expect(res.object["status"] as? String == "failure")
            try await stillServing(app)
        }
    }

    @Test(arguments: [
        "sysparm_first_row=9223372036854775807", "sysparm_first_row=-9223372036854775808",
        "sysparm_first_row=99999999999999999999", "sysparm_first_row=abc",
    ])
    func listPagesTakeAnyFirstRow(query: String) async throws {
        try await withDesk { app, _ in
            let browser = WebBrowser(app)
            _ = try await browser.signIn("agent")
            let page = try await browser.get("/incident_list.do?" + query)
            #expect(page.status == .ok)
            try await stillServing(app)
        }
    }

    @Test func everyErrorEnvelopeHasADetail() async throws {
        try await withDesk { app, _ in
            for path in ["/api/now/table/no_such_table", "/api/now/table/incident/0123456789abcdef0123456789abcdef"] {
                let res = try await raw(app, .GET, path)
                let error = try #require(res.object["error"] as? [String: Any])
                #expect(error.keys.contains("detail"), "\(res.body.string)")
                #expect(res.body.string.contains("\"detail\":"))
            }
            // Over real HTTP: only a running server collects bodies up to a limit.
            let big = try await app.testing(method: .running(port: freeLoopbackPort())).sendRequest(
                .POST, "/api/now/table/incident", headers: DeskFixture.basic("agent"),
                body: ByteBuffer(string: "{\"short_description\":\"" + String(repeating: "x", count: 70_000) + "\"}"))
            #expect(big.status == .payloadTooLarge)
            #expect(big.object["status"] as? String == "failure")
            #expect((big.object["error"] as? [String: Any])?.keys.contains("detail") == true)
        }
    }

    @Test(arguments: [
        "{\"short_description\":\"x\",}", "[1,]", "{\"a\":[1,2,],\"b\":1}", "{\"short_description\":\"x\"} trailing",
    ])
    func malformedJSONIsRefused(body: String) async throws {
        try await withDesk { app, _ in
            let res = try await raw(app, .POST, "/api/now/table/incident", body: body)
            #expect(res.status == .badRequest, "\(res.body.string)")
            #expect(res.errorMessage == "Exception while reading request")
            let count = try await app.table(.GET, "incident", as: "agent").results.count
            #expect(count == 0)
        }
    }

    @Test func deeplyNestedJSONIsRefusedWithoutRecursion() async throws {
        try await withDesk { app, _ in
            let body = "{\"a\":" + String(repeating: "[", count: 5000) + String(repeating: "]", count: 5000) + "}"
            let res = try await raw(app, .POST, "/api/now/table/incident", body: body)
            #expect(res.status == .badRequest)
        }
    }

    @Test func largeEncodedQueriesAreClear400s() async throws {
        try await withDesk { app, _ in
            let many = (0..<2000).map { "number=I\($0)" }.joined(separator: "^OR")
            let res = try await raw(app, .GET, "/api/now/table/incident?sysparm_query=" + many)
            #expect(res.status == .badRequest)
            #expect(res.errorMessage == "Invalid query")
            #expect(
                (res.object["error"] as? [String: Any])?["detail"] as? String
                    == "The query has more than 500 conditions")
            let longValue = "short_descriptionLIKE" + String(repeating: "x", count: 40_000)
            let long = try await raw(app, .GET, "/api/now/table/incident?sysparm_query=" + longValue)
            #expect(long.status == .badRequest)
            let list = "numberIN" + (0..<1500).map { "INC\($0)" }.joined(separator: ",")
            let inList = try await raw(app, .GET, "/api/now/table/incident?sysparm_query=" + list)
            #expect(inList.status == .badRequest)
            let allowed = (0..<400).map { "short_descriptionLIKEterm\($0)" }.joined(separator: "^OR")
            #expect(try await raw(app, .GET, "/api/now/table/incident?sysparm_query=" + allowed).status == .ok)
            try await stillServing(app)
        }
    }

    @Test func invalidUTF8InAQueryValueMatchesNothing() async throws {
        try await withDesk { app, fx in
            _ = try await app.table(
                .POST, "incident", as: "agent", json: ["short_description": "Outlook", "caller_id": fx.callerId])
            for query in [
                "sysparm_query=short_descriptionLIKE%FF", "sysparm_query=short_description%3D%C3%28",
                "sysparm_query=short_descriptionSTARTSWITHOut%FE",
            ] {
                let res = try await raw(app, .GET, "/api/now/table/incident?" + query)
                #expect(res.status == .ok)
                #expect(res.results.isEmpty, "\(query)")
            }
            let nul = try await raw(app, .GET, "/api/now/table/incident?sysparm_query=short_descriptionLIKE%00")
            #expect(nul.status == .badRequest)
        }
    }

    @Test func aNULInAStringFieldIsRefused() async throws {
        try await withDesk { app, _ in
            let res = try await raw(
                app, .POST, "/api/now/table/incident", body: "{\"short_description\":\"a\\u0000b\"}")
            #expect(res.status == .badRequest)
            #expect(res.errorMessage == "Invalid value for field 'short_description'")
        }
    }

    @Test func lifespansOutOfRangeAreRefused() async throws {
        try await withDesk { app, _ in
            let res = try await app.table(
                .POST, "oauth_entity", as: "admin.user",
                json: [
                    "name": "x", "type": "client", "client_id": "abc", "access_token_lifespan": "9223372036854775807",
                ])
            #expect(res.status == .badRequest)
            #expect(res.errorMessage == "Invalid value for field 'access_token_lifespan'")
        }
    }

    @Test func aPasswordWithANULOrOver72BytesIsNeverSetAndNeverAccepted() async throws {
        try await withDesk { app, _ in
            for password in ["Passw0rd!x\u{0}tail", String(repeating: "p", count: 73)] {
                let res = try await app.table(
                    .POST, "sys_user", as: "admin.user", json: ["user_name": "new.user", "user_password": password])
                #expect(res.status == .badRequest, "\(res.body.string)")
                #expect(res.errorMessage == "Invalid password for field 'user_password'")
            }
            // The stored password followed by a NUL and more must not pass, in Basic nor in the password grant.
            var headers = HTTPHeaders()
            headers.basicAuthorization = BasicAuthorization(
                username: "agent", password: DeskFixture.password("agent") + "\u{0}anything")
            let basic = try await app.testing().sendRequest(.GET, "/api/now/table/incident", headers: headers)
            #expect(basic.status == .unauthorized)
            let client = try await DeskDirectory(app: app).createInboundEntity(name: "M365")
            let grant = try await app.testing().sendRequest(
                .POST, "/oauth_token.do", headers: ["Content-Type": "application/x-www-form-urlencoded"],
                body: ByteBuffer(
                    string: HTTPForm.encode([
                        "grant_type": "password", "client_id": client.clientId, "client_secret": client.clientSecret,
                        "username": "agent", "password": DeskFixture.password("agent") + "\u{0}x",
                    ])))
            #expect(grant.status == .unauthorized)
            #expect(grant.object["error"] as? String == "server_error")
        }
    }

    /// bcrypt that counts its checks, to see that a locked-out attempt spends none.
    final class CountingHasher: PasswordHasher {
        let checks = Mutex(0)

        func hash<Password: DataProtocol>(_ password: Password) throws -> [UInt8] {
            Array(try Bcrypt.hash(String(decoding: password, as: UTF8.self), cost: 4).utf8)
        }

        func verify<Password: DataProtocol, Digest: DataProtocol>(_ password: Password, created digest: Digest)
            throws -> Bool
        {
            checks.withLock { $0 += 1 }
            return try Bcrypt.verify(
                String(decoding: password, as: UTF8.self), created: String(decoding: digest, as: UTF8.self))
        }
    }

    @Test func basicAuthAndThePasswordGrantShareTheThrottle() async throws {
        let clock = TestClock()
        try await withDesk(clock: clock) { app, _ in
            let hasher = CountingHasher()
            app.passwords.use { _ in hasher }
            var wrong = HTTPHeaders()
            wrong.basicAuthorization = BasicAuthorization(username: "agent", password: "wrong")
            for _ in 0..<3 {
                #expect(
                    try await app.testing().sendRequest(.GET, "/api/now/table/incident", headers: wrong).status
                        == .unauthorized)
            }
            let client = try await DeskDirectory(app: app).createInboundEntity(name: "M365")
            func grant(_ password: String) async throws -> TestingHTTPResponse {
                try await app.testing().sendRequest(
                    .POST, "/oauth_token.do", headers: ["Content-Type": "application/x-www-form-urlencoded"],
                    body: ByteBuffer(
                        string: HTTPForm.encode([
                            "grant_type": "password", "client_id": client.clientId,
                            "client_secret": client.clientSecret, "username": "agent", "password": password,
                        ])))
            }
            #expect(try await grant("wrong").status == .unauthorized)
            #expect(try await grant("wrong").status == .unauthorized)
            // Five failures: even the right password is refused now, before any hash, in each interface's shape.
            let checksBefore = hasher.checks.withLock { $0 }
            #expect(checksBefore == 5)
            let locked = try await app.table(.GET, "incident", as: "agent")
            #expect(locked.status == .tooManyRequests)
            #expect(locked.errorMessage == "Too many failed sign-in attempts")
            #expect(locked.headers.first(name: .retryAfter) != nil)
            let lockedGrant = try await grant(DeskFixture.password("agent"))
            #expect(lockedGrant.status == .tooManyRequests)
            #expect(lockedGrant.object["error"] as? String == "temporarily_unavailable")
            #expect(hasher.checks.withLock { $0 } == checksBefore)
            // Other users are not locked out by these failures.
            #expect(try await app.table(.GET, "incident", as: "admin.user").status == .ok)

            clock.advance(by: SignInThrottle.Limits.standard.window + 1)
            #expect(try await app.table(.GET, "incident", as: "agent").status == .ok)
        }
    }

    @Test func oauthTokenFailuresUseOAuthsShape() async throws {
        try await withDesk { app, _ in
            let big = try await app.testing(method: .running(port: freeLoopbackPort())).sendRequest(
                .POST, "/oauth_token.do", headers: ["Content-Type": "application/x-www-form-urlencoded"],
                body: ByteBuffer(string: "grant_type=password&x=" + String(repeating: "a", count: 200_000)))
            #expect(big.status == .payloadTooLarge)
            #expect(big.object["error"] as? String == "invalid_request")
            #expect(big.object["error_description"] is String)
            #expect(big.object["status"] == nil)
            let garbage = try await app.testing().sendRequest(
                .POST, "/oauth_token.do", headers: ["Content-Type": "application/x-www-form-urlencoded"],
                body: ByteBuffer(bytes: [0x67, 0x3D, 0x25, 0xFF, 0xFE, 0x25, 0x7A]))
            #expect(garbage.status == .badRequest)
            #expect(garbage.object["error"] as? String == "invalid_request")
        }
    }

    @Test(arguments: [
        "/%09/evil.example", "//evil.example", "/\\evil.example", "https://evil.example", "/%2F%2Fevil.example",
    ])
    func signInNeverRedirectsOffTheDesk(goto: String) async throws {
        #expect(SignInController.safeGoto(goto) == "/")
    }
}

/// What NIO's HTTP parser refuses never reaches a handler; the server still answers it, in the envelope.
@Suite("Desk: requests refused before routing")
struct DeskParserRefusalTests {
    func withServingDesk(_ body: (Application, Int) async throws -> Void) async throws {
        try await withDesk { app, _ in
            let port = freeLoopbackPort()
            try await app.server.start(address: .hostname("127.0.0.1", port: port))
            do {
                try await body(app, port)
            } catch {
                await app.server.shutdown()
                throw error
            }
            await app.server.shutdown()
        }
    }

    func stillServing(_ port: Int) async throws {
        let answer = try await RawHTTP.exchange(
            port: port, Array("GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".utf8))
        #expect(answer.hasPrefix("HTTP/1.1 200 OK"), "\(answer.prefix(200))")
    }

    func envelope(_ answer: String) throws -> [String: Any] {
        let body = try #require(answer.components(separatedBy: "\r\n\r\n").last)
        return try #require(try JSONSerialization.jsonObject(with: Data(body.utf8)) as? [String: Any])
    }

    @Test func aHugeAuthorizationHeaderIs431() async throws {
        try await withServingDesk { _, port in
            let request =
                "GET /api/now/table/incident HTTP/1.1\r\nHost: x\r\nAuthorization: Basic "
                + String(repeating: "A", count: 100_000) + "\r\n\r\n"
            let answer = try await RawHTTP.exchange(port: port, Array(request.utf8))
            #expect(answer.hasPrefix("HTTP/1.1 431 Request Header Fields Too Large"), "\(answer.prefix(200))")
            let body = try envelope(answer)
            #expect(body["status"] as? String == "failure")
            #expect((body["error"] as? [String: Any])?["detail"] as? String != nil)
            try await stillServing(port)
        }
    }

    @Test func aURLOfTenThousandQueryTermsIs431() async throws {
        try await withServingDesk { _, port in
            let query = (0..<10_000).map { "short_descriptionLIKEterm\($0)" }.joined(separator: "%5EOR")
            let answer = try await RawHTTP.exchange(
                port: port, Array("GET /api/now/table/incident?sysparm_query=\(query) HTTP/1.1\r\nHost: x\r\n\r\n".utf8)
            )
            #expect(answer.hasPrefix("HTTP/1.1 431"), "\(answer.prefix(200))")
            try await stillServing(port)
        }
    }

    @Test(arguments: [
        "POST /api/now/table/incident HTTP/1.1\r\nHost: x\r\nContent-Type: \u{1}garbage\r\nContent-Length: 2\r\n\r\n{}",
        "GET /api/now/table/incident HTTP/1.1\r\nHost: x\r\nBad Header: y\r\n\r\n",
        "GET /api/now/table/incident HTTP/1.1\r\nHost: x\r\nContent-Length: -5\r\n\r\n",
    ])
    func malformedHeadersAre400(request: String) async throws {
        try await withServingDesk { _, port in
            let answer = try await RawHTTP.exchange(port: port, Array(request.utf8))
            #expect(answer.hasPrefix("HTTP/1.1 400 Bad Request"), "\(answer.prefix(200))")
            #expect(try envelope(answer)["status"] as? String == "failure")
            try await stillServing(port)
        }
    }

    @Test func randomRequestsNeverTakeTheServerDown() async throws {
        try await withServingDesk { _, port in
            var random = SeededRandom(seed: 23)
            let paths = ["/api/now/table/incident", "/oauth_token.do", "/login.do", "/incident_list.do", "/x"]
            let alphabet = Array("abc:;=,/%00 \r\n{}[]\"\\^ORsysparm_query".utf8) + [0x00, 0x01, 0x7f, 0xff, 0xc3]
            for round in 0..<300 {
                let method = ["GET", "POST", "PUT", "DELETE", "PATCH", "BREW"][round % 6]
                let path = paths[round % paths.count]
                let junk = random.bytes(from: alphabet, maxLength: 200)
                var request = Array("\(method) \(path)?".utf8) + junk.prefix(40).filter { $0 > 0x20 && $0 < 0x7f }
                request += Array(" HTTP/1.1\r\nHost: x\r\nConnection: close\r\nX-Junk: ".utf8) + junk
                request += Array("\r\nContent-Length: \(junk.count)\r\n\r\n".utf8) + junk
                let answer = try await RawHTTP.exchange(port: port, request, timeout: 5)
                #expect(answer.hasPrefix("HTTP/1.1 "), "round \(round): \(answer.prefix(100))")
            }
            try await stillServing(port)
        }
    }

    @Test func aClientThatExpectsContinueIsToldToGoOn() async throws {
        try await withServingDesk { _, port in
            let body = "{\"short_description\":\"Sent after 100 Continue\"}"
            var request = "POST /api/now/table/incident HTTP/1.1\r\nHost: x\r\nConnection: close\r\n"
            request +=
                "Authorization: Basic \(Data("agent:\(DeskFixture.password("agent"))".utf8).base64EncodedString())\r\n"
            request +=
                "Content-Type: application/json\r\nExpect: 100-continue\r\nContent-Length: \(body.utf8.count)\r\n\r\n"
            let answer = try await RawHTTP.exchange(port: port, Array((request + body).utf8))
            #expect(answer.hasPrefix("HTTP/1.1 100 Continue\r\n"), "\(answer.prefix(200))")
            #expect(answer.contains("HTTP/1.1 201 Created"))
        }
    }

    @Test func keepAliveServesSeveralRequestsOnOneConnection() async throws {
        try await withServingDesk { _, port in
            let one = "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n"
            let answer = try await RawHTTP.exchange(
                port: port, Array((one + one + "GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").utf8))
            #expect(answer.components(separatedBy: "HTTP/1.1 200 OK").count == 4, "\(answer)")
        }
    }
}

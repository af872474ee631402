import AsyncHTTPClient
import Crypto
import Foundation
import NIOCore
import ServerSupport
import ServiceDesk
import Vapor

/// Table API list requests per second (a page of 20 incidents with Basic auth) next to `GET /healthz` on the
/// same server in the same run: the ratio is what the Table API's work costs on top of bare HTTP.
enum DeskTableBenchmark {
    static func run(seconds: Double, connections: Int) async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("m365-bench-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: directory) }
        let app = try await Application.make(.production)
        let config = DeskConfig(
            endpoint: ServiceEndpoint(host: "127.0.0.1", port: 0, usesTLS: false),
            database: .sqliteFile(directory.appendingPathComponent("desk.sqlite")), tls: nil,
            masterKey: MasterKey(key: SymmetricKey(size: .bits256)))
        try await configure(app, config: config)
        try await app.prepareDesk()
        let password = RandomToken.password()
        try await DeskDirectory(app: app).createUser(
            userName: "bench.agent", firstName: "Bench", lastName: "Agent", email: "bench@example.com",
            password: password, roles: ["itil"])
        guard try await DeskDemoSeed(app: app).seedIfNeeded() != nil else { throw Abort(.internalServerError) }
        try await app.server.start(address: .hostname("127.0.0.1", port: 0))
        let base = "http://127.0.0.1:\((app.guardedServer?.localAddress?.port)!)"

        var configuration = HTTPClient.Configuration()
        configuration.connectionPool.concurrentHTTP1ConnectionsPerHostSoftLimit = connections
        // Sign-in answers 303 with the session cookie; following it would lose the cookie.
        configuration.redirectConfiguration = .disallow
        let http = HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
        let authorization = "Basic " + Data("bench.agent:\(password)".utf8).base64EncodedString()
        let listURL = base + "/api/now/table/incident?sysparm_limit=20&sysparm_query=stateIN1,2,3%5EORDERBYDESCnumber"
        let healthURL = base + "/healthz"
        let list: @Sendable () async throws -> Void = {
            var request = HTTPClientRequest(url: listURL)
            request.headers.add(name: "Authorization", value: authorization)
            let response = try await http.execute(request, timeout: .seconds(10))
            let body = try await response.body.collect(upTo: 1 << 20)
            guard response.status == .ok else {
                throw Abort(.internalServerError, reason: "list failed: \(response.status) \(String(buffer: body))")
            }
        }
        let health: @Sendable () async throws -> Void = {
            let response = try await http.execute(HTTPClientRequest(url: healthURL), timeout: .seconds(10))
            _ = try await response.body.collect(upTo: 1 << 10)
        }
        let session = try await signIn(http: http, base: base, userName: "bench.agent", password: password)
        let pageURL = base + "/incident_list.do?sysparm_state=1,2,3"
        let page: @Sendable () async throws -> Void = {
            var request = HTTPClientRequest(url: pageURL)
            request.headers.add(name: "Cookie", value: "desk_session=\(session)")
            let response = try await http.execute(request, timeout: .seconds(10))
            let body = try await response.body.collect(upTo: 1 << 20)
            guard response.status == .ok else {
                throw Abort(.internalServerError, reason: "page failed: \(response.status) \(String(buffer: body))")
            }
        }
        for _ in 0..<50 {
            try await list()
            try await page()
        }
        let healthRate = try await Measure.rate(workers: connections, duration: seconds, health)
        let listRate = try await Measure.rate(workers: connections, duration: seconds, list)
        let pageRate = try await Measure.rate(workers: connections, duration: seconds, page)
        print(
            "Desk Table API benchmark: \(Int(seconds)) s per phase, \(connections) keep-alive connections, SQLite file")
        print(String(format: "  GET /healthz requests/s                         %8.0f", healthRate))
        print(
            String(
                format: "  GET incident list (20 of 12, query) requests/s  %8.0f  (%.1f%% of /healthz)", listRate,
                listRate / healthRate * 100))
        print(
            String(
                format: "  GET incident_list.do page (signed in) requests/s %7.0f  (%.1f%% of /healthz)", pageRate,
                pageRate / healthRate * 100))
        if let wrk = Measure.wrkPath {
            let wrkHealth = try await Measure.wrk(
                wrk, url: healthURL, body: nil, headers: [:], seconds: seconds, connections: connections,
                directory: directory)
            let wrkList = try await Measure.wrk(
                wrk, url: listURL, body: nil, headers: ["Authorization": authorization], seconds: seconds,
                connections: connections, directory: directory)
            print(String(format: "  GET /healthz requests/s (wrk)                   %8.0f", wrkHealth))
            print(
                String(
                    format: "  GET incident list requests/s (wrk)              %8.0f  (%.1f%% of /healthz)", wrkList,
                    wrkList / wrkHealth * 100))
        }
        try await http.shutdown()
        try await app.drainAndShutdown()
    }

    /// Signs in through the web form, as a browser does; returns the session cookie's value.
    static func signIn(http: HTTPClient, base: String, userName: String, password: String) async throws -> String {
        let form = try await http.execute(HTTPClientRequest(url: base + "/login.do"), timeout: .seconds(10))
        let html = String(buffer: try await form.body.collect(upTo: 1 << 20))
        guard let token = html.firstMatch(of: /name="sysparm_ck" value="([^"]+)"/)?.1,
            let cookie = form.headers["Set-Cookie"].first(where: { $0.hasPrefix("desk_login_ck=") })?
                .split(separator: ";").first
        else { throw Abort(.internalServerError, reason: "no sign-in form") }
        var request = HTTPClientRequest(url: base + "/login.do")
        request.method = .POST
        request.headers.add(name: "Content-Type", value: "application/x-www-form-urlencoded")
        request.headers.add(name: "Cookie", value: String(cookie))
        let encoded = password.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? ""
        request.body = .bytes(ByteBuffer(string: "sysparm_ck=\(token)&user_name=\(userName)&user_password=\(encoded)"))
        let response = try await http.execute(request, timeout: .seconds(10))
        guard
            let session = response.headers["Set-Cookie"].first(where: { $0.hasPrefix("desk_session=") })?
                .split(separator: ";").first?.dropFirst("desk_session=".count)
        else { throw Abort(.internalServerError, reason: "sign-in failed: \(response.status)") }
        return String(session)
    }
}

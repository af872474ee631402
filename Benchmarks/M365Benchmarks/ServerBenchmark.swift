import AsyncHTTPClient
import Crypto
import Foundation
import NIOCore
import ServerSupport
import ServiceDesk
import Vapor

/// The desk behind Vapor's own HTTP server and behind ``GuardedHTTPServer``, one after the other in the same
/// run: `/healthz` and a Table API list on each, and the guarded server's rate as a ratio of Vapor's.
enum ServerBenchmark {
    struct Rates {
        var health: Double
        var list: Double
    }

    static func run(seconds: Double, connections: Int) async throws {
        let vapor = try await measure(vaporServer: true, seconds: seconds, connections: connections)
        let guarded = try await measure(vaporServer: false, seconds: seconds, connections: connections)
        print("HTTP server benchmark: \(Int(seconds)) s per phase, \(connections) keep-alive connections, the desk")
        print("                                       Vapor's server   GuardedHTTPServer   ratio")
        print(
            String(
                format: "  GET /healthz requests/s            %10.0f   %17.0f   %5.1f%%", vapor.health, guarded.health,
                guarded.health / vapor.health * 100))
        print(
            String(
                format: "  GET incident list requests/s       %10.0f   %17.0f   %5.1f%%", vapor.list, guarded.list,
                guarded.list / vapor.list * 100))
    }

    private static func measure(vaporServer: Bool, seconds: Double, connections: Int) async throws -> Rates {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("m365-bench-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: directory) }
        let app = try await Application.make(.production)
        try await configure(
            app,
            config: DeskConfig(
                endpoint: ServiceEndpoint(host: "127.0.0.1", port: 0, usesTLS: false),
                database: .sqliteFile(directory.appendingPathComponent("desk.sqlite")), tls: nil,
                masterKey: MasterKey(key: SymmetricKey(size: .bits256))))
        if vaporServer { app.servers.use(.http) }
        try await app.prepareDesk()
        let password = RandomToken.password()
        try await DeskDirectory(app: app).createUser(
            userName: "bench.agent", firstName: "Bench", lastName: "Agent", email: "bench@example.com",
            password: password, roles: ["itil"])
        _ = try await DeskDemoSeed(app: app).seedIfNeeded()
        try await app.server.start(address: .hostname("127.0.0.1", port: 0))
        let port = vaporServer ? app.http.server.shared.localAddress?.port : app.guardedServer?.localAddress?.port
        let base = "http://127.0.0.1:\(port!)"

        var configuration = HTTPClient.Configuration()
        configuration.connectionPool.concurrentHTTP1ConnectionsPerHostSoftLimit = connections
        let http = HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
        let authorization = "Basic " + Data("bench.agent:\(password)".utf8).base64EncodedString()
        let listURL = base + "/api/now/table/incident?sysparm_limit=20&sysparm_query=stateIN1,2,3%5EORDERBYDESCnumber"
        let list: @Sendable () async throws -> Void = {
            var request = HTTPClientRequest(url: listURL)
            request.headers.add(name: "Authorization", value: authorization)
            let response = try await http.execute(request, timeout: .seconds(10))
            _ = try await response.body.collect(upTo: 1 << 20)
            guard response.status == .ok else { throw Abort(.internalServerError, reason: "list: \(response.status)") }
        }
        let health: @Sendable () async throws -> Void = {
            let response = try await http.execute(HTTPClientRequest(url: base + "/healthz"), timeout: .seconds(10))
            _ = try await response.body.collect(upTo: 1 << 10)
        }
        for _ in 0..<50 { try await list() }
        let rates = Rates(
            health: try await Measure.rate(workers: connections, duration: seconds, health),
            list: try await Measure.rate(workers: connections, duration: seconds, list))
        try await http.shutdown()
        try await app.drainAndShutdown()
        return rates
    }
}

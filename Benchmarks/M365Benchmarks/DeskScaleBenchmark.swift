import AsyncHTTPClient
import Crypto
import Foundation
import NIOCore
import ServerSupport
import ServiceDesk
import Vapor

/// The desk at a real desk's size: each measured request's rate with the demo's 12 incidents, then again after
/// `desk seed` added `incidents` incidents and a tenth as many users, as a ratio in the same run. SQLite file by
/// default; PostgreSQL when `M365_BENCH_POSTGRES_URL` names an empty database (its tables are removed afterwards).
enum DeskScaleBenchmark {
    static func run(seconds: Double, connections: Int, incidents: Int) async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("m365-bench-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let postgres = ProcessInfo.processInfo.environment["M365_BENCH_POSTGRES_URL"]
        let database: DatabaseLocation =
            postgres.map { .postgres(url: $0) } ?? .sqliteFile(directory.appendingPathComponent("desk.sqlite"))
        let app = try await Application.make(Environment(name: "production", arguments: ["m365-benchmarks"]))
        try await configure(
            app,
            config: DeskConfig(
                endpoint: ServiceEndpoint(host: "127.0.0.1", port: 0, usesTLS: false), database: database, tls: nil,
                masterKey: MasterKey(key: SymmetricKey(size: .bits256))))
        try await app.prepareDesk()
        let password = RandomToken.password()
        try await DeskDirectory(app: app).createUser(
            userName: "bench.agent", firstName: "Bench", lastName: "Agent", email: "bench@example.com",
            password: password, roles: ["itil"])
        _ = try await DeskDemoSeed(app: app).seedIfNeeded()
        try await app.server.start(address: .hostname("127.0.0.1", port: 0))
        let base = "http://127.0.0.1:\((app.guardedServer?.localAddress?.port)!)"

        var configuration = HTTPClient.Configuration()
        configuration.connectionPool.concurrentHTTP1ConnectionsPerHostSoftLimit = connections
        configuration.redirectConfiguration = .disallow
        let http = HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
        let authorization = "Basic " + Data("bench.agent:\(password)".utf8).base64EncodedString()
        let session = try await DeskTableBenchmark.signIn(
            http: http, base: base, userName: "bench.agent", password: password)
        @Sendable func request(_ method: HTTPMethod, _ url: String, cookie: Bool = false, body: String? = nil)
            async throws -> String
        {
            var request = HTTPClientRequest(url: url)
            request.method = method
            if cookie {
                request.headers.add(name: "Cookie", value: "desk_session=\(session)")
            } else {
                request.headers.add(name: "Authorization", value: authorization)
                request.headers.add(name: "Accept", value: "application/json")
            }
            if let body {
                request.headers.add(name: "Content-Type", value: "application/json")
                request.body = .bytes(ByteBuffer(string: body))
            }
            let response = try await http.execute(request, timeout: .seconds(30))
            let text = String(buffer: try await response.body.collect(upTo: 8 << 20))
            guard (200..<300).contains(response.status.code) else {
                throw Abort(.internalServerError, reason: "\(method) \(url): \(response.status) \(text.prefix(300))")
            }
            return text
        }
        let api = base + "/api/now/table/incident"
        let recent = try await request(.GET, api + "?sysparm_limit=1&sysparm_fields=sys_id")
        let someIncident = String(try require(recent.firstMatch(of: /"sys_id":"([0-9a-f]{32})"/)?.1))
        let phases: [(String, @Sendable () async throws -> Void)] = [
            (
                "Table API list (20, active, by update)",
                {
                    _ = try await request(
                        .GET, api + "?sysparm_limit=20&sysparm_query=active%3Dtrue%5EORDERBYDESCsys_updated_on")
                }
            ),
            (
                "  the same without the count (sysparm_no_count)",
                {
                    _ = try await request(
                        .GET,
                        api
                            + "?sysparm_limit=20&sysparm_no_count=true&sysparm_query=active%3Dtrue%5EORDERBYDESCsys_updated_on"
                    )
                }
            ),
            (
                // Each request a filter never asked before (all active incidents, by a random bound on a date
                // that every one passes): the count is not remembered, as for the first list after a write.
                "  the same, counted (a new filter each time)",
                {
                    let bound = String(
                        format: "19%02d-0%d-1%d 0%d:%02d:%02d", Int.random(in: 10...99), Int.random(in: 1...9),
                        Int.random(in: 0...9), Int.random(in: 0...9), Int.random(in: 0...59), Int.random(in: 0...59))
                    let query = "active=true^sys_updated_on>\(bound)^ORDERBYDESCsys_updated_on"
                    _ = try await request(
                        .GET,
                        api + "?sysparm_limit=20&sysparm_query="
                            + query.addingPercentEncoding(withAllowedCharacters: .alphanumerics)!)
                }
            ),
            (
                "Table API LIKE search on short_description",
                { _ = try await request(.GET, api + "?sysparm_limit=20&sysparm_query=short_descriptionLIKEmailbox") }
            ),
            ("Table API read by sys_id", { _ = try await request(.GET, api + "/" + someIncident) }),
            (
                "Table API incident create",
                { _ = try await request(.POST, api, body: #"{"short_description":"Load test","impact":3}"#) }
            ),
            ("signed-in incident list page", { _ = try await request(.GET, base + "/incident_list.do", cookie: true) }),
            (
                "incident form",
                { _ = try await request(.GET, base + "/incident.do?sys_id=\(someIncident)", cookie: true) }
            ),
        ]
        func measure() async throws -> [(rate: Double, p50: Double, p99: Double)] {
            var results: [(Double, Double, Double)] = []
            for (_, work) in phases {
                for _ in 0..<20 { try await work() }
                let measured = try await Measure.rateAndLatency(workers: connections, duration: seconds, work)
                results.append((measured.rate, measured.p50, measured.p99))
            }
            return results
        }
        let small = try await measure()
        let seedStart = Date()
        let report = try await DeskLoadSeed(app: app).seed(users: max(1, incidents / 10), incidents: incidents)
        let seedSeconds = Date().timeIntervalSince(seedStart)
        let large = try await measure()
        print(
            "Desk at scale: \(postgres == nil ? "SQLite file" : "PostgreSQL"), \(Int(seconds)) s per phase, "
                + "\(connections) connections; seeded \(report.users) users, \(report.incidents) incidents, "
                + String(format: "%d work notes in %.1f s", report.workNotes, seedSeconds))
        for (index, (name, _)) in phases.enumerated() {
            print(
                String(
                    format: "  %@ 12 incidents %7.0f/s  %d: %7.0f/s (%5.1f%%)  p50 %6.2f ms  p99 %6.2f ms",
                    name.padding(toLength: 44, withPad: " ", startingAt: 0), small[index].rate, incidents,
                    large[index].rate, large[index].rate / max(0.001, small[index].rate) * 100, large[index].p50,
                    large[index].p99))
        }
        try await http.shutdown()
        if postgres != nil { try await app.autoRevert() }
        try await app.drainAndShutdown()
    }
}

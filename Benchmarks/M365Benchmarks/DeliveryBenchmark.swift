import AsyncHTTPClient
import Connector
import Crypto
import Foundation
import Identity
import NIOCore
import ServerSupport
import SolutionSearch
import Synchronization
import TestSupport
import Vapor
import WireModels

/// An engineer's update until the desk has it: `POST /admin/api/serviceRequests/{n}/updates` on the Connector →
/// outbox → delivery with a basic-mode token → the receiver. p50/p99 over `updates` updates one after the other,
/// next to the update request alone (its baseline in the same run); then events per second delivered when
/// `cases` cases get updates at once. The receiver is a minimal desk (`/oauth_token.do` and the events route) on
/// loopback; the Connector uses an SQLite file.
enum DeliveryBenchmark {
    final class Counter: Sendable {
        private let value = Mutex(0)

        func next() -> Int {
            value.withLock {
                $0 += 1
                return $0
            }
        }
    }

    final class Receiver: Sendable {
        let arrived = Mutex<[String: ContinuousClock.Instant]>([:])
        /// How long the desk takes to answer an event (`M365_BENCH_DESK_MS`, default 0): a desk across a network
        /// answers in tens of milliseconds, which is where several delivery workers pay.
        let answerDelay = Int(ProcessInfo.processInfo.environment["M365_BENCH_DESK_MS"] ?? "") ?? 0

        func routes(_ app: Application) {
            app.post("oauth_token.do") { _ in
                Response(
                    status: .ok, headers: ["Content-Type": "application/json"],
                    body: .init(string: #"{"access_token":"bench","refresh_token":"r","expires_in":1799}"#))
            }
            app.on(.POST, "api", "x_mioms_m365_assis", "v1", "events", body: .collect(maxSize: "1mb")) { request in
                let text = request.body.string ?? ""
                if self.answerDelay > 0 { try await Task.sleep(for: .milliseconds(self.answerDelay)) }
                if let marker = text.firstMatch(of: /bench-[0-9]+/) {
                    let now = ContinuousClock.now
                    self.arrived.withLock { $0[String(marker.0)] = now }
                }
                return Response(status: .ok, body: .init(string: #"{"result":{}}"#))
            }
        }
    }

    static func run(updates: Int, cases: Int) async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("m365-bench-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: directory) }
        let masterKey = MasterKey(key: SymmetricKey(size: .bits256))

        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let bench = try await BenchIdentity.start(in: directory, masterKey: masterKey)
        let identityURL = bench.url
        let contoso = try await BenchContoso.create(in: bench)
        let tenant = contoso.tenant
        let boss = contoso.administrator

        let receiverApp = try await Application.make(.production)
        let receiver = Receiver()
        receiver.routes(receiverApp)
        let receiverPort = freeLoopbackPort()
        try await receiverApp.server.start(address: .hostname("127.0.0.1", port: receiverPort))

        let adminToken = "bench-admin-token"
        // Started as `serve` runs it (lifecycle and job runner included); Vapor must not read this tool's arguments.
        let connector = try await Application.make(Environment(name: "production", arguments: ["m365-benchmarks"]))
        var config = ConnectorConfig(
            endpoint: ServiceEndpoint(host: "127.0.0.1", port: 0, usesTLS: false),
            database: .sqliteFile(directory.appendingPathComponent("connector.sqlite")), tls: nil,
            masterKey: masterKey, authority: identityURL, adminToken: adminToken)
        config.deliveryWorkers =
            ProcessInfo.processInfo.environment["M365_CONNECTOR_DELIVERY_WORKERS"].flatMap(Int.init)
            ?? config.deliveryWorkers
        try await Connector.configure(connector, config: config)
        try await connector.prepareConnector(indexing: false)
        let operations = ConnectorOperations(app: connector)
        let desk = try await contoso.serve(
            by: operations, resource: config.resource, identity: bench,
            roles: [ConnectorResource.Role.supportIntegration])
        _ = try await operations.updateProfile(
            tenant: tenant.id, OrganizationProfileUpdate(supportTool: "ServiceNow", appId: desk.appId))
        _ = try await operations.saveRepository(
            tenant: tenant.id,
            RepositoryInput(
                repositoryId: "bench-desk", endpoint: "http://127.0.0.1:\(receiverPort)", authenticationType: "basic",
                clientId: "c", clientSecret: "s", restUserName: "u", restUserPassword: "p"))
        try await connector.startup()
        let base = "http://127.0.0.1:\((connector.guardedServer?.localAddress?.port)!)"
        let deskToken = try await ConnectorHealthBenchmark.token(
            identityURL, tenant: tenant.id, app: desk, resource: config.resource)

        var configuration = HTTPClient.Configuration()
        configuration.connectionPool.concurrentHTTP1ConnectionsPerHostSoftLimit = max(8, cases)
        let http = HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
        @Sendable func post(_ path: String, token: String, json: String) async throws -> String {
            var request = HTTPClientRequest(url: base + path)
            request.method = .POST
            request.headers.add(name: "Authorization", value: "Bearer \(token)")
            request.headers.add(name: "Content-Type", value: "application/json")
            request.body = .bytes(ByteBuffer(string: json))
            let response = try await http.execute(request, timeout: .seconds(20))
            let body = String(buffer: try await response.body.collect(upTo: 1 << 20))
            guard (200..<300).contains(response.status.code) else {
                throw Abort(.internalServerError, reason: "\(path): \(response.status) \(body.prefix(300))")
            }
            return body
        }
        var numbers: [String] = []
        for index in 0..<max(1, cases) {
            let created = try await post(
                "/api/v1/serviceRequests", token: deskToken,
                json: """
                    {"repositoryId":"bench-desk","ticketNumber":"INC\(index)","title":"Bench","description":"Bench case",\
                    "severity":"C","contact":{"email":"\(boss)"},"idempotencyKey":"bench-case-\(index)-\(UUID())"}
                    """)
            numbers.append(
                try require(created.firstMatch(of: /"number"\s*:\s*"(SR[0-9]+)"/)?.1, "case number").description)
        }
        let counter = Counter()
        @Sendable func update(_ number: String) async throws -> String {
            let marker = "bench-\(counter.next())"
            _ = try await post(
                "/admin/api/serviceRequests/\(number)/updates", token: adminToken, json: #"{"text":"\#(marker)"}"#)
            return marker
        }
        func waitFor(_ markers: Set<String>) async throws -> ContinuousClock.Instant {
            let deadline = ContinuousClock.now.advanced(by: .seconds(60))
            while ContinuousClock.now < deadline {
                let seen = receiver.arrived.withLock { arrived in
                    markers.allSatisfy { arrived[$0] != nil } ? markers.compactMap { arrived[$0] }.max() : nil
                }
                if let seen { return seen }
                try await Task.sleep(for: .milliseconds(1))
            }
            throw Abort(.internalServerError, reason: "events were not delivered within 60 s")
        }
        func ms(_ duration: Duration) -> Double {
            Double(duration.components.seconds) * 1000 + Double(duration.components.attoseconds) / 1e15
        }
        // Warm up: tokens, connections, the first claim.
        for _ in 0..<10 { _ = try await waitFor([try await update(numbers[0])]) }

        var requestOnly: [Double] = []
        var delivered: [Double] = []
        for _ in 0..<max(1, updates) {
            let start = ContinuousClock.now
            let marker = try await update(numbers[0])
            requestOnly.append(ms(start.duration(to: .now)))
            delivered.append(ms(start.duration(to: try await waitFor([marker]))))
        }
        requestOnly.sort()
        delivered.sort()

        // Every case gets its updates at the same time as the others, each case's in order.
        let perCase = 20
        let burstStart = ContinuousClock.now
        let caseNumbers = numbers
        let markers = try await withThrowingTaskGroup(of: [String].self) { group in
            for number in caseNumbers {
                group.addTask {
                    var posted: [String] = []
                    for _ in 0..<perCase { posted.append(try await update(number)) }
                    return posted
                }
            }
            return try await group.reduce(into: Set<String>()) { $0.formUnion($1) }
        }
        let burstEnd = try await waitFor(markers)
        let seconds = ms(burstStart.duration(to: burstEnd)) / 1000

        print(
            "Delivery benchmark: SQLite Connector with \(config.deliveryWorkers) delivery workers, basic-mode receiver on "
                + "loopback answering after \(receiver.answerDelay) ms, \(updates) updates one by one")
        print(
            String(
                format: "  update request alone           p50 %7.2f ms  p99 %7.2f ms",
                Evaluation.percentile(0.5, of: requestOnly), Evaluation.percentile(0.99, of: requestOnly)))
        print(
            String(
                format: "  update → delivered to the desk p50 %7.2f ms  p99 %7.2f ms  (%.1f× the request alone at p50)",
                Evaluation.percentile(0.5, of: delivered), Evaluation.percentile(0.99, of: delivered),
                Evaluation.percentile(0.5, of: delivered) / max(0.001, Evaluation.percentile(0.5, of: requestOnly))))
        print(
            String(
                format: "  %d cases × %d updates posted at once: all delivered in %.2f s, %.0f events/s",
                numbers.count, perCase, seconds, Double(markers.count) / seconds))
        try await http.shutdown()
        try await connector.asyncShutdown()
        await receiverApp.server.shutdown()
        try await receiverApp.asyncShutdown()
        try await bench.stop()
    }
}

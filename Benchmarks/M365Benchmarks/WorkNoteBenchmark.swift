import AsyncHTTPClient
import Connector
import Crypto
import Foundation
import Identity
import M365SupportApp
import NIOCore
import ServerSupport
import ServiceDesk
import SolutionSearch
import Synchronization
import TestSupport
import Vapor
import WireModels

/// An engineer's update until it is a work note on the incident: `POST /admin/api/serviceRequests/{n}/updates` on
/// the Connector → outbox → delivery with the integration user's `/oauth_token.do` token → the app's inbound API
/// on the real desk, which applies it (thread entry, case status, work note) in one transaction. p50/p99 over
/// `updates` updates one after the other, next to the update request alone in the same run. The three services
/// listen on loopback HTTP with SQLite files; the desk is set up in basic mode through the app's setup API.
enum WorkNoteBenchmark {
    /// Notes when the desk has answered an event (its work note committed), by the marker in the event's text.
    final class Arrivals: AsyncMiddleware, Sendable {
        let seen = Mutex<[String: ContinuousClock.Instant]>([:])

        func respond(to request: Request, chainingTo next: any AsyncResponder) async throws -> Response {
            let response = try await next.respond(to: request)
            if request.url.path == M365SupportScope.inboundEvents, response.status == .ok,
                let marker = request.body.string?.firstMatch(of: /note-[0-9]+/)
            {
                let now = ContinuousClock.now
                seen.withLock { $0[String(marker.0)] = now }
            }
            return response
        }
    }

    static func run(updates: Int) async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("m365-bench-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: directory) }
        let masterKey = MasterKey(key: SymmetricKey(size: .bits256))
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let bench = try await BenchIdentity.start(in: directory, masterKey: masterKey)
        let identityURL = bench.url
        let contoso = try await BenchContoso.create(in: bench)
        let tenant = contoso.tenant
        let boss = contoso.administrator

        let adminToken = "bench-admin-token"
        let connectorPort = freeLoopbackPort()
        let connectorURL = "http://127.0.0.1:\(connectorPort)"
        let connector = try await Application.make(Environment(name: "production", arguments: ["m365-benchmarks"]))
        let connectorConfig = ConnectorConfig(
            endpoint: ServiceEndpoint(host: "127.0.0.1", port: connectorPort, usesTLS: false),
            database: .sqliteFile(directory.appendingPathComponent("connector.sqlite")), tls: nil,
            masterKey: masterKey, authority: identityURL, adminToken: adminToken)
        try await Connector.configure(connector, config: connectorConfig)
        try await connector.prepareConnector(indexing: false)
        let operations = ConnectorOperations(app: connector)
        let outbound = try await contoso.serve(
            by: operations, resource: connectorConfig.resource, identity: bench, roles: ConnectorResource.Role.all)
        try await connector.startup()

        let deskPort = freeLoopbackPort()
        let deskURL = "http://127.0.0.1:\(deskPort)"
        let desk = try await Application.make(.production)
        try await ServiceDesk.configure(
            desk,
            config: DeskConfig(
                endpoint: ServiceEndpoint(host: "127.0.0.1", port: deskPort, usesTLS: false, publicURL: deskURL),
                database: .sqliteFile(directory.appendingPathComponent("desk.sqlite")), tls: nil, masterKey: masterKey))
        let arrivals = Arrivals()
        desk.middleware.use(arrivals)
        try desk.install(M365SupportApp(defaultConnectorURL: connectorURL))
        try await desk.prepareDesk()
        let password = "Bench-\(UUID().uuidString)"
        let directoryOfDesk = DeskDirectory(app: desk)
        try await directoryOfDesk.createUser(
            userName: "bench.admin", firstName: "Bench", lastName: "Admin", email: "bench.admin@example.com",
            password: password, roles: ["admin"])
        try await directoryOfDesk.createUser(
            userName: "bench.integration", firstName: "Bench", lastName: "Integration", email: "", password: password,
            roles: [], webServiceAccessOnly: true)
        let inbound = try await directoryOfDesk.createInboundEntity(name: "Bench inbound")
        _ = try await DeskDemoSeed(app: desk).seedIfNeeded()
        try await desk.server.start(address: .hostname("127.0.0.1", port: deskPort))

        let http = HTTPClient(eventLoopGroupProvider: .singleton)
        let basic = "Basic " + Data("bench.admin:\(password)".utf8).base64EncodedString()
        @Sendable func call(_ method: HTTPMethod, _ url: String, auth: String, body: String? = nil) async throws
            -> String
        {
            var request = HTTPClientRequest(url: url)
            request.method = method
            request.headers.add(name: "Authorization", value: auth)
            request.headers.add(name: "Content-Type", value: "application/json")
            request.headers.add(name: "Accept", value: "application/json")
            if let body { request.body = .bytes(ByteBuffer(string: body)) }
            let response = try await http.execute(request, timeout: .seconds(20))
            let text = String(buffer: try await response.body.collect(upTo: 8 << 20))
            guard (200..<300).contains(response.status.code) else {
                throw Abort(.internalServerError, reason: "\(method) \(url): \(response.status) \(text.prefix(500))")
            }
            return text
        }
        let entity = try await call(
            .POST, deskURL + "/api/now/table/oauth_entity", auth: basic,
            body: """
                {"name":"Outbound","type":"oauth_provider","client_id":"\(outbound.appId)",\
                "client_secret":"\(outbound.secret!)","token_url":"\(identityURL)/\(tenant.id)/oauth2/token",\
                "resource":"\(connectorConfig.resource)","active":"true"}
                """)
        let entityId = try require(entity.firstMatch(of: /"sys_id":"([0-9a-f]{32})"/)?.1)
        let profiles = try await call(
            .GET, deskURL + "/api/now/table/oauth_entity_profile?sysparm_query=oauth_entity=\(entityId)", auth: basic)
        let profile = try require(profiles.firstMatch(of: /"sys_id":"([0-9a-f]{32})"/)?.1)
        _ = try await operations.updateProfile(
            tenant: tenant.id, OrganizationProfileUpdate(supportTool: "ServiceNow", appId: outbound.appId))
        _ = try await operations.saveRepository(
            tenant: tenant.id,
            RepositoryInput(
                repositoryId: "bench-desk", endpoint: deskURL, authenticationType: "basic",
                clientId: inbound.clientId, clientSecret: inbound.clientSecret, restUserName: "bench.integration",
                restUserPassword: password))
        let setup = deskURL + "/api/x_mioms_m365_assis/v1/setup"
        for (method, path, body) in [
            (HTTPMethod.POST, "/consent", "{}"), (.PUT, "/outbound", #"{"profile":"\#(profile)"}"#),
            (.PUT, "/inbound", #"{"choice":"client","entity":"\#(inbound.clientId)"}"#),
            (.PUT, "/user", #"{"user":"bench.integration"}"#), (.PUT, "/repository", #"{"repositoryId":"bench-desk"}"#),
            (.PUT, "/settings", #"{"adminEmail":"\#(boss)"}"#), (.POST, "/complete", "{}"),
        ] {
            _ = try await call(method, setup + path, auth: basic, body: body)
        }
        let incidents = try await call(.GET, deskURL + "/api/now/table/incident?sysparm_limit=1", auth: basic)
        let ticket = try require(incidents.firstMatch(of: /"number":"(INC[0-9]+)"/)?.1)
        let deskToken = try await ConnectorHealthBenchmark.token(
            identityURL, tenant: tenant.id, app: outbound, resource: connectorConfig.resource)
        let created = try await call(
            .POST, connectorURL + "/" + ConnectorPath.serviceRequests, auth: "Bearer \(deskToken)",
            body: """
                {"repositoryId":"bench-desk","ticketNumber":"\(ticket)","title":"Bench","description":"Bench case",\
                "severity":"C","contact":{"email":"\(boss)"},"idempotencyKey":"bench-\(UUID())"}
                """)
        let number = try require(created.firstMatch(of: /"number"\s*:\s*"(SR[0-9]+)"/)?.1)

        let counter = DeliveryBenchmark.Counter()
        func update() async throws -> String {
            let marker = "note-\(counter.next())"
            _ = try await call(
                .POST, connectorURL + "/admin/api/serviceRequests/\(number)/updates", auth: "Bearer \(adminToken)",
                body: #"{"text":"\#(marker)","author":"Bench Engineer"}"#)
            return marker
        }
        func noted(_ marker: String) async throws -> ContinuousClock.Instant {
            let deadline = ContinuousClock.now.advanced(by: .seconds(60))
            while ContinuousClock.now < deadline {
                if let seen = arrivals.seen.withLock({ $0[marker] }) { return seen }
                try await Task.sleep(for: .milliseconds(1))
            }
            throw Abort(.internalServerError, reason: "\(marker) was not noted within 60 s")
        }
        func ms(_ duration: Duration) -> Double {
            Double(duration.components.seconds) * 1000 + Double(duration.components.attoseconds) / 1e15
        }
        for _ in 0..<10 { _ = try await noted(try await update()) }
        var requestOnly: [Double] = []
        var notedAfter: [Double] = []
        for _ in 0..<max(1, updates) {
            let start = ContinuousClock.now
            let marker = try await update()
            requestOnly.append(ms(start.duration(to: .now)))
            notedAfter.append(ms(start.duration(to: try await noted(marker))))
        }
        requestOnly.sort()
        notedAfter.sort()
        let journal = try await desk.db.asSQL().select().column("sys_id").from("desk_sys_journal_field")
            .where("element", .equal, "work_notes").all().count
        print(
            "Work note benchmark: SQLite files, desk in basic mode on loopback, \(updates) engineer updates one by one "
                + "(\(journal) work notes written)")
        print(
            String(
                format: "  update request alone             p50 %7.2f ms  p99 %7.2f ms",
                Evaluation.percentile(0.5, of: requestOnly), Evaluation.percentile(0.99, of: requestOnly)))
        print(
            String(
                format:
                    "  update → work note on incident   p50 %7.2f ms  p99 %7.2f ms  (%.1f× the request alone at p50)",
                Evaluation.percentile(0.5, of: notedAfter), Evaluation.percentile(0.99, of: notedAfter),
                Evaluation.percentile(0.5, of: notedAfter) / max(0.001, Evaluation.percentile(0.5, of: requestOnly))))
        try await http.shutdown()
        try await desk.drainAndShutdown()
        try await connector.asyncShutdown()
        try await bench.stop()
    }
}

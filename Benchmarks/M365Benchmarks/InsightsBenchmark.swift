import AsyncHTTPClient
import Connector
import Crypto
import Foundation
import Identity
import M365SupportApp
import NIOCore
import ServerSupport
import ServiceDesk
import TestSupport
import Vapor
import WireModels

/// The incident tab's insights request end to end — desk (session, incident read through the app's cross-scope
/// privileges, outbound token from the desk's cache) → Connector (token check, search, related issues) → desk
/// (panel rendered) — with p50/p99 and requests per second, next to the desk's `/healthz` and the Connector's own
/// `recommendedSolutions` in the same run. All three services listen on loopback HTTP with SQLite files; the
/// knowledge base is `../shared/data/kb` (or `M365_KB_DIR`) when present, else the starter articles.
enum InsightsBenchmark {
    static func run(seconds: Double, connections: Int) async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("m365-bench-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: directory) }
        let masterKey = MasterKey(key: SymmetricKey(size: .bits256))

        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let bench = try await BenchIdentity.start(in: directory, masterKey: masterKey)
        let identity = bench.app
        let identityURL = bench.url
        let admin = identity.directoryAdmin()
        let tenant = try await admin.createTenant(.init(name: "Contoso", domains: ["contoso.onmicrosoft.com"]))

        let connectorPort = freeLoopbackPort()
        let connectorURL = "http://127.0.0.1:\(connectorPort)"
        let connector = try await Application.make(.production)
        let connectorConfig = ConnectorConfig(
            endpoint: ServiceEndpoint(host: "127.0.0.1", port: connectorPort, usesTLS: false),
            database: .sqliteFile(directory.appendingPathComponent("connector.sqlite")), tls: nil,
            masterKey: masterKey, authority: identityURL)
        try await Connector.configure(connector, config: connectorConfig)
        try await connector.prepareConnector()
        _ = try await admin.createApp(
            tenant: tenant.id,
            .init(
                displayName: ConnectorResource.displayName, identifierUris: [connectorConfig.resource],
                appRoles: ConnectorResource.Role.all, withSecret: false))
        let outbound = try await admin.createApp(tenant: tenant.id, .init(displayName: "Desk outbound"))
        for role in ConnectorResource.Role.all {
            _ = try await admin.grant(
                tenant: tenant.id, client: outbound.appId, .init(resource: connectorConfig.resource, role: role))
        }
        _ = try await ConnectorDemoSeed(app: connector).seedIfNeeded(
            tenant: ConnectorTenant(
                tenantId: tenant.id, displayName: tenant.name, domains: tenant.domains, resourceAppId: nil))
        _ = try await ConnectorOperations(app: connector).updateProfile(
            tenant: tenant.id, OrganizationProfileUpdate(supportTool: "ServiceNow", appId: outbound.appId))
        let corpus = URL(
            fileURLWithPath: ProcessInfo.processInfo.environment["M365_KB_DIR"] ?? "../shared/data/kb"
        ).appendingPathComponent("articles.jsonl")
        if let data = try? Data(contentsOf: corpus) {
            _ = try await ConnectorOperations(app: connector).knowledgeBase.importJSONLines(data)
        }
        let articles = try await ConnectorOperations(app: connector).refreshIndex()
        try await connector.server.start(address: .hostname("127.0.0.1", port: connectorPort))

        let desk = try await Application.make(.production)
        try await ServiceDesk.configure(
            desk,
            config: DeskConfig(
                endpoint: ServiceEndpoint(host: "127.0.0.1", port: 0, usesTLS: false),
                database: .sqliteFile(directory.appendingPathComponent("desk.sqlite")), tls: nil,
                masterKey: masterKey))
        try desk.install(M365SupportApp(defaultConnectorURL: connectorURL))
        try await desk.prepareDesk()
        let password = "Bench-\(UUID().uuidString)"
        for (name, roles) in [("bench.admin", ["admin"]), ("bench.agent", ["itil", M365SupportScope.insightsUser])] {
            try await DeskDirectory(app: desk).createUser(
                userName: name, firstName: name, lastName: "Bench", email: "\(name)@example.com", password: password,
                roles: roles)
        }
        _ = try await DeskDemoSeed(app: desk).seedIfNeeded()
        try await desk.server.start(address: .hostname("127.0.0.1", port: 0))
        let deskURL = "http://127.0.0.1:\((desk.guardedServer?.localAddress?.port)!)"

        var configuration = HTTPClient.Configuration()
        configuration.connectionPool.concurrentHTTP1ConnectionsPerHostSoftLimit = connections
        configuration.redirectConfiguration = .disallow
        let http = HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
        let basic = "Basic " + Data("bench.admin:\(password)".utf8).base64EncodedString()
        func call(_ method: HTTPMethod, _ url: String, headers: [(String, String)], body: String? = nil)
            async throws -> (HTTPClientResponse, String)
        {
            var request = HTTPClientRequest(url: url)
            request.method = method
            for (name, value) in headers { request.headers.add(name: name, value: value) }
            if let body { request.body = .bytes(ByteBuffer(string: body)) }
            let response = try await http.execute(request, timeout: .seconds(20))
            return (response, String(buffer: try await response.body.collect(upTo: 8 << 20)))
        }
        func must(_ answer: (HTTPClientResponse, String), _ what: String) throws -> String {
            guard (200..<400).contains(answer.0.status.code) else {
                throw Abort(.internalServerError, reason: "\(what): \(answer.0.status) \(answer.1.prefix(500))")
            }
            return answer.1
        }
        let json = [("Authorization", basic), ("Content-Type", "application/json"), ("Accept", "application/json")]
        let entity = try must(
            try await call(
                .POST, deskURL + "/api/now/table/oauth_entity", headers: json,
                body: """
                    {"name":"Outbound","type":"oauth_provider","client_id":"\(outbound.appId)",\
                    "client_secret":"\(outbound.secret!)","token_url":"\(identityURL)/\(tenant.id)/oauth2/token",\
                    "resource":"\(connectorConfig.resource)","active":"true"}
                    """), "OAuth provider")
        let entityId = try require(entity.firstMatch(of: /"sys_id":"([0-9a-f]{32})"/)?.1)
        let profiles = try must(
            try await call(
                .GET, deskURL + "/api/now/table/oauth_entity_profile?sysparm_query=oauth_entity=\(entityId)",
                headers: json), "profile")
        let profile = try require(profiles.firstMatch(of: /"sys_id":"([0-9a-f]{32})"/)?.1)
        let setup = deskURL + "/api/x_mioms_m365_assis/v1/setup"
        for (method, path, body) in [
            (HTTPMethod.POST, "/consent", "{}"), (.PUT, "/outbound", #"{"profile":"\#(profile)"}"#),
            (.PUT, "/inbound", #"{"choice":"none"}"#), (.PUT, "/repository", "{}"), (.POST, "/complete", "{}"),
        ] {
            _ = try must(try await call(method, setup + path, headers: json, body: body), "setup \(path)")
        }
        let incidents = try must(
            try await call(
                .GET,
                deskURL
                    + "/api/now/table/incident?sysparm_query=short_description=Outlook%20keeps%20asking%20for%20password",
                headers: json), "incident")
        let incident = try require(incidents.firstMatch(of: /"sys_id":"([0-9a-f]{32})"/)?.1)

        // An agent's browser session: the sign-in form's CSRF token and cookie, then the session cookie.
        let login = try await call(.GET, deskURL + "/login.do", headers: [])
        let csrf = try require(login.1.firstMatch(of: /name="sysparm_ck" value="([^"]+)"/)?.1)
        func cookies(_ response: HTTPClientResponse) -> String {
            response.headers[.setCookie].map { String($0.split(separator: ";")[0]) }.joined(separator: "; ")
        }
        let signedIn = try await call(
            .POST, deskURL + "/login.do",
            headers: [("Content-Type", "application/x-www-form-urlencoded"), ("Cookie", cookies(login.0))],
            body: "sysparm_ck=\(csrf)&user_name=bench.agent&user_password=\(password)")
        let session = cookies(signedIn.0)
        let panelURL = deskURL + "/x_mioms_m365_assis_insights.do?sys_id=\(incident)&fragment=1"
        let panel = try must(try await call(.GET, panelURL, headers: [("Cookie", session)]), "panel")
        guard panel.contains("id=\"m365-solutions\"") else {
            throw Abort(.internalServerError, reason: "the panel has no solutions: \(panel.prefix(1000))")
        }
        let deskToken = try await ConnectorHealthBenchmark.token(
            identityURL, tenant: tenant.id, app: outbound, resource: connectorConfig.resource)
        let text =
            #"{"text":"Outlook keeps asking for password Since this morning Outlook on my laptop prompts for "#
            + #"credentials every few minutes, even after entering the right password.","top":5}"#

        func expectOK(_ method: HTTPMethod, _ url: String, headers: [(String, String)], body: String? = nil)
            -> @Sendable () async throws -> Void
        {
            { () async throws -> Void in
                var request = HTTPClientRequest(url: url)
                request.method = method
                for (name, value) in headers { request.headers.add(name: name, value: value) }
                if let body { request.body = .bytes(ByteBuffer(string: body)) }
                let response = try await http.execute(request, timeout: .seconds(20))
                let body = try await response.body.collect(upTo: 8 << 20)
                guard response.status == .ok else {
                    throw Abort(.internalServerError, reason: "\(url): \(response.status) \(String(buffer: body))")
                }
            }
        }
        let phases: [(String, @Sendable () async throws -> Void)] = [
            ("desk GET /healthz", expectOK(.GET, deskURL + "/healthz", headers: [])),
            (
                "Connector POST recommendedSolutions",
                expectOK(
                    .POST, connectorURL + "/" + ConnectorPath.recommendedSolutions,
                    headers: [("Authorization", "Bearer \(deskToken)"), ("Content-Type", "application/json")],
                    body: text)
            ),
            ("desk GET insights panel (end to end)", expectOK(.GET, panelURL, headers: [("Cookie", session)])),
        ]
        for (_, work) in phases { for _ in 0..<20 { try await work() } }
        print(
            "Insights benchmark: \(Int(seconds)) s per phase, \(connections) keep-alive connections, SQLite files, "
                + "\(articles) articles")
        var baseline = 0.0
        for (name, work) in phases {
            let measured = try await Measure.rateAndLatency(workers: connections, duration: seconds, work)
            if baseline == 0 { baseline = measured.rate }
            print(
                String(
                    format: "  %@ requests/s %7.0f (%5.1f%% of desk /healthz)  p50 %6.2f ms  p99 %6.2f ms",
                    name.padding(toLength: 40, withPad: " ", startingAt: 0), measured.rate,
                    measured.rate / baseline * 100, measured.p50, measured.p99))
        }
        try await http.shutdown()
        try await desk.drainAndShutdown()
        try await connector.drainAndShutdown()
        try await bench.stop()
    }
}

/// A value a benchmark cannot go on without.
func require<T>(_ value: T?, _ what: String = "value") throws -> T {
    guard let value else { throw Abort(.internalServerError, reason: "no \(what)") }
    return value
}

import AsyncHTTPClient
import Connector
import Crypto
import Foundation
import Identity
import NIOCore
import ServerSupport
import TestSupport
import Vapor
import WireModels

/// Graph-compatible service health requests per second — the demo tenant's issues, a filtered, ordered, selected
/// page, and a 1000-issue tenant filtered — and recommended solutions (a short query and a ticket, over the corpus
/// of `../shared/data/kb` or `M365_KB_DIR` when present, else the starter articles), next to `GET /healthz` on the
/// same Connector in the same run. Every
/// health request carries an app token from Identity (running in the process on loopback), so the figures
/// include the token check.
enum ConnectorHealthBenchmark {
    static func run(seconds: Double, connections: Int) async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("m365-bench-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: directory) }
        let masterKey = MasterKey(key: SymmetricKey(size: .bits256))

        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let bench = try await BenchIdentity.start(in: directory, masterKey: masterKey)
        let identity = bench.app
        let identityURL = bench.url
        let admin = identity.directoryAdmin()
        let tenants = [
            try await admin.createTenant(.init(name: "Contoso", domains: ["contoso.onmicrosoft.com"])),
            try await admin.createTenant(.init(name: "Large", domains: ["large.onmicrosoft.com"])),
        ]

        let connector = try await Application.make(.production)
        var config = ConnectorConfig(
            endpoint: ServiceEndpoint(host: "127.0.0.1", port: 0, usesTLS: false),
            database: .sqliteFile(directory.appendingPathComponent("connector.sqlite")), tls: nil,
            masterKey: masterKey, authority: identityURL)
        // The sentence encoder where scripts/install-semantic-model.sh put it, as `serve` would use it.
        let model = URL(
            fileURLWithPath: ProcessInfo.processInfo.environment["M365_SEMANTIC_MODEL"]
                ?? "data/models/all-MiniLM-L6-v2")
        if FileManager.default.fileExists(atPath: model.appendingPathComponent("model.safetensors").path) {
            config.semanticModel = model
        }
        try await Connector.configure(connector, config: config)
        try await connector.prepareConnector()
        var tokens: [String] = []
        for tenant in tenants {
            _ = try await admin.createApp(
                tenant: tenant.id,
                .init(
                    displayName: ConnectorResource.displayName, identifierUris: [config.resource],
                    appRoles: ConnectorResource.Role.all, withSecret: false))
            let reader = try await admin.createApp(tenant: tenant.id, .init(displayName: "Reader"))
            _ = try await admin.grant(
                tenant: tenant.id, client: reader.appId,
                .init(resource: config.resource, role: ConnectorResource.Role.serviceHealthRead))
            let registered = ConnectorTenant(
                tenantId: tenant.id, displayName: tenant.name, domains: tenant.domains, resourceAppId: nil)
            _ = try await ConnectorDemoSeed(app: connector).seedIfNeeded(tenant: registered)
            tokens.append(try await token(identityURL, tenant: tenant.id, app: reader, resource: config.resource))
        }
        _ = try await ConnectorOperations(app: connector).importHealth(
            tenant: tenants[1].id, document: largeTenant(issues: 1000))

        // Recommended solutions for the desk's app of Contoso, over the real corpus when it is at hand.
        let desk = try await admin.createApp(tenant: tenants[0].id, .init(displayName: "Desk outbound"))
        _ = try await admin.grant(
            tenant: tenants[0].id, client: desk.appId,
            .init(resource: config.resource, role: ConnectorResource.Role.supportIntegration))
        _ = try await ConnectorOperations(app: connector).updateProfile(
            tenant: tenants[0].id, OrganizationProfileUpdate(supportTool: "servicenow", appId: desk.appId))
        let deskToken = try await token(identityURL, tenant: tenants[0].id, app: desk, resource: config.resource)
        let corpus = URL(
            fileURLWithPath: ProcessInfo.processInfo.environment["M365_KB_DIR"] ?? "../shared/data/kb"
        ).appendingPathComponent("articles.jsonl")
        let knowledgeBase = ConnectorOperations(app: connector).knowledgeBase
        if let data = try? Data(contentsOf: corpus) { _ = try await knowledgeBase.importJSONLines(data) }
        let articleCount = try await ConnectorOperations(app: connector).refreshIndex()
        // The articles' and sentences' vectors are encoded in the background (about 35 s for the corpus); measure
        // once it is done and the query encoder learned. An encoder that could not be read starts no encoding:
        // the search stays lexical.
        let deadline = Date().addingTimeInterval(300)
        while ConnectorOperations(app: connector).searchIsEncoding, Date() < deadline {
            try await Task.sleep(for: .milliseconds(200))
        }
        // The rebuild that follows an encoding (and learns the query encoder) runs before this one, which then
        // finds nothing new.
        _ = try await ConnectorOperations(app: connector).refreshIndex()
        let semantic = ConnectorOperations(app: connector).searchIsSemantic
        let queryEncoder = ConnectorOperations(app: connector).searchQueryEncoder
        if semantic, queryEncoder == .distilled {
            try await editsUntilSearchable(knowledgeBase, ConnectorOperations(app: connector))
        }

        try await connector.server.start(address: .hostname("127.0.0.1", port: 0))
        let base = "http://127.0.0.1:\((connector.guardedServer?.localAddress?.port)!)"
        var configuration = HTTPClient.Configuration()
        configuration.connectionPool.concurrentHTTP1ConnectionsPerHostSoftLimit = connections
        let http = HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)

        func get(_ url: String, token: String?) -> @Sendable () async throws -> Void {
            { () async throws -> Void in
                var request = HTTPClientRequest(url: url)
                if let token { request.headers.add(name: "Authorization", value: "Bearer \(token)") }
                let response = try await http.execute(request, timeout: .seconds(10))
                let body = try await response.body.collect(upTo: 8 << 20)
                guard response.status == .ok else {
                    throw Abort(.internalServerError, reason: "\(url): \(response.status) \(String(buffer: body))")
                }
            }
        }
        @Sendable func post(_ url: String, token: String, json: String) -> @Sendable () async throws -> Void {
            { () async throws -> Void in
                var request = HTTPClientRequest(url: url)
                request.method = .POST
                request.headers.add(name: "Authorization", value: "Bearer \(token)")
                request.headers.add(name: "Content-Type", value: "application/json")
                request.body = .bytes(ByteBuffer(string: json))
                let response = try await http.execute(request, timeout: .seconds(10))
                let body = try await response.body.collect(upTo: 8 << 20)
                guard response.status == .ok else {
                    throw Abort(.internalServerError, reason: "\(url): \(response.status) \(String(buffer: body))")
                }
            }
        }
        let solutions = base + "/" + ConnectorPath.recommendedSolutions
        let ticket =
            "Outlook keeps asking for password after mailbox move. Since we moved the user's mailbox to Exchange "
            + "Online yesterday, Outlook on her laptop prompts for credentials every few minutes and never connects. "
            + "OWA works fine. Other users are not affected."
        let issues = base + "/v1.0/admin/serviceAnnouncement/issues"
        let query =
            "?%24filter=isResolved%20eq%20false%20and%20(classification%20eq%20%27incident%27%20or%20contains(title,%27mail%27))"
            + "&%24orderby=lastModifiedDateTime%20desc&%24select=id,title,status&%24top=20"
        let phases: [(String, @Sendable () async throws -> Void)] = [
            ("GET /healthz", get(base + "/healthz", token: nil)),
            ("GET issues (9, with posts)", get(issues, token: tokens[0])),
            ("GET issues $filter/$orderby/$select (9)", get(issues + query, token: tokens[0])),
            ("GET issues $filter/$orderby/$select (1009)", get(issues + query, token: tokens[1])),
            (
                "GET healthOverviews?$expand=issues",
                get(base + "/v1.0/admin/serviceAnnouncement/healthOverviews?%24expand=issues", token: tokens[0])
            ),
            (
                "POST recommendedSolutions (query, top 5)",
                post(solutions, token: deskToken, json: #"{"text":"outlook keeps asking for password"}"#)
            ),
            (
                "POST recommendedSolutions (ticket, top 5)",
                post(solutions, token: deskToken, json: #"{"text":"\#(ticket)"}"#)
            ),
            (
                // A text never searched before each time: with the encoder, each one is encoded (an incident's
                // first look; the phases above search the same text, whose vector is kept).
                "POST recommendedSolutions (new ticket each time)",
                {
                    let variant = ticket + " Reference \(UUID().uuidString.prefix(8))."
                    try await post(solutions, token: deskToken, json: #"{"text":"\#(variant)"}"#)()
                }
            ),
        ]
        for (_, work) in phases { for _ in 0..<20 { try await work() } }
        print(
            "Connector benchmark: \(Int(seconds)) s per phase, \(connections) keep-alive connections, SQLite file, "
                + "\(articleCount) articles, search \(semantic ? "semantic, queries read by the \(queryEncoder.rawValue)" : "lexical")"
        )
        var baseline = 0.0
        for (name, work) in phases {
            let rate = try await Measure.rate(workers: connections, duration: seconds, work)
            if baseline == 0 { baseline = rate }
            let padded = name.padding(toLength: 48, withPad: " ", startingAt: 0)
            print(
                String(format: "  %@ requests/s %8.0f  (%.1f%% of /healthz)", padded, rate, rate / baseline * 100))
        }
        try await http.shutdown()
        try await connector.drainAndShutdown()
        try await bench.stop()
    }

    /// An administrator's edit until it is searchable (the save and the rebuild, as the admin API answers): the
    /// edited article and its new sentences are encoded during the rebuild; the query encoder is kept when the
    /// edit's words are known, and learned again when new ones come (what every edit cost before).
    static func editsUntilSearchable(_ knowledgeBase: KnowledgeBase, _ operations: ConnectorOperations) async throws {
        let ids = try await knowledgeBase.articles().map(\.id)
        var kept: [Double] = []
        var learned: [Double] = []
        func edit(_ id: String, _ change: (inout KnowledgeArticle) -> Void) async throws {
            guard var article = try await knowledgeBase.article(id: id) else { return }
            change(&article)
            let learnings = operations.searchQueryEncoderLearnings
            let started = ContinuousClock.now
            _ = try await knowledgeBase.save(article)
            _ = try await operations.refreshIndex()
            let seconds = Double((ContinuousClock.now - started) / .microseconds(1)) / 1e6
            if operations.searchQueryEncoderLearnings > learnings {
                learned.append(seconds)
            } else {
                kept.append(seconds)
            }
        }
        for (number, id) in ids.prefix(5).enumerated() {
            // Its own title as its description: words the knowledge base has.
            try await edit(id) { $0.description = "\($0.title) (\(number))." }
        }
        for (number, id) in ids.dropFirst(5).prefix(3).enumerated() {
            // Twenty sentences with words it has never seen: some are among the sentences it learns from.
            try await edit(id) { article in
                article.body += (0..<20).map { " The zeppelin \(number) met quokka number \($0) near the axolotl." }
                    .joined()
            }
        }
        let median = { (values: [Double]) in values.isEmpty ? 0 : values.sorted()[values.count / 2] }
        print(
            String(
                format:
                    "Edit until searchable (save + rebuild, %d articles): query encoder kept %.2f s (median of %d), "
                    + "learned again %.2f s (median of %d): %.0f%%",
                ids.count, median(kept), kept.count, median(learned), learned.count,
                median(learned) > 0 ? median(kept) / median(learned) * 100 : 0))
    }

    static func token(_ identityURL: String, tenant: String, app: IdentityAdmin.App, resource: String) async throws
        -> String
    {
        var request = HTTPClientRequest(url: "\(identityURL)/\(tenant)/oauth2/token")
        request.method = .POST
        request.headers.add(name: "Content-Type", value: "application/x-www-form-urlencoded")
        request.body = .bytes(
            ByteBuffer(
                string: FormBody.encode([
                    ("grant_type", "client_credentials"), ("client_id", app.appId), ("client_secret", app.secret ?? ""),
                    ("resource", resource),
                ])))
        let response = try await HTTPClient.shared.execute(request, timeout: .seconds(10))
        let body = try await response.body.collect(upTo: 1 << 20)
        guard let object = try JSONSerialization.jsonObject(with: Data(buffer: body)) as? [String: Any],
            let token = object["access_token"] as? String
        else { throw Abort(.internalServerError, reason: "no token: \(String(buffer: body))") }
        return token
    }

    /// Issues across ten services, a third of them open, each with three posts.
    static func largeTenant(issues count: Int) throws -> Data {
        let services = [
            "Exchange Online", "Microsoft Teams", "SharePoint Online", "OneDrive for Business", "Identity Service",
            "Microsoft Intune", "Microsoft 365 Apps", "Planner", "Microsoft Forms", "Power BI",
        ]
        let start = Date(timeIntervalSince1970: 1_790_000_000)
        let issues = (0..<count).map { index in
            let stamp = start.addingTimeInterval(Double(index) * 600)
            return ServiceHealthIssue(
                id: "BX\(100_000 + index)", title: "Users may see delays with mail feature \(index % 37)",
                startDateTime: stamp, lastModifiedDateTime: stamp.addingTimeInterval(300),
                impactDescription: "Some users may be affected by issue \(index).",
                classification: index % 3 == 0 ? "incident" : "advisory", origin: "microsoft",
                status: index % 3 == 1 ? "investigating" : "serviceRestored", service: services[index % services.count],
                feature: "Feature \(index % 11)", featureGroup: "Group \(index % 5)", isResolved: index % 3 != 1,
                details: [],
                posts: (0..<3).map { post in
                    ServiceHealthIssuePost(
                        createdDateTime: stamp.addingTimeInterval(Double(post) * 60), postType: "regular",
                        description: GraphItemBody(
                            contentType: "html",
                            content: String(repeating: "Current status: we're investigating. ", count: 8)))
                })
        }
        return try GraphDate.encoder.encode(GraphCollection(value: issues))
    }
}

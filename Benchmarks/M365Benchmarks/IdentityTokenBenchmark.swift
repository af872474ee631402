import AsyncHTTPClient
import Crypto
import Foundation
import Identity
import NIOCore
import NIOHTTP1
import ServerSupport
import Vapor
import WireModels

/// Client-credentials tokens issued per second over HTTP and HTTPS, next to raw RS256 signatures per second
/// with the same key on the same machine in the same run.
///
/// Run: `swift run -c release m365-benchmarks identity [seconds per phase] [connections]`. The in-process load generator's
/// CPU time counts against the endpoint's rate, as a co-located client's would; when `wrk` is installed, the HTTP
/// endpoint is also driven by it from a separate, lighter process.
enum IdentityTokenBenchmark {
    static let tenant = "bench.onmicrosoft.com"

    static func run(seconds: Double, connections: Int) async throws {
        let cores = ProcessInfo.processInfo.activeProcessorCount

        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("m365-bench-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: directory) }
        let ca = DevCertificateAuthority(dataDirectory: directory)
        try ca.ensure()
        let masterKey = MasterKey(key: SymmetricKey(size: .bits256))
        let database = DatabaseLocation.sqliteFile(directory.appendingPathComponent("identity.sqlite"))

        let https = try await startIdentity(database: database, masterKey: masterKey, tls: .development(ca))
        let plain = try await startIdentity(
            database: database, masterKey: masterKey, tls: TLSSettings(server: nil, trustedCAFiles: []))
        let admin = https.app.directoryAdmin()
        _ = try await admin.createTenant(.init(name: "Bench", domains: [tenant]))
        let client = try await admin.createApp(tenant: tenant, .init(displayName: "Bench client"))
        _ = try await admin.grant(
            tenant: tenant, client: client.appId,
            .init(resource: MicrosoftGraphResource.identifierURI, role: MicrosoftGraphResource.Role.directoryReadAll))

        // The signing key tokens use, over an input the size of a real token's header and claims.
        let privateKey = try await https.app.identity.keyRing.activeKey(on: https.app.db).privateKey
        let signingInput = Data(String(repeating: "x", count: 700).utf8)
        let rawRate = try await Measure.rate(workers: cores, duration: seconds) {
            _ = try privateKey.signature(for: signingInput, padding: .insecurePKCS1v1_5)
        }

        var tls = TLSConfiguration.makeClientConfiguration()
        tls.additionalTrustRoots = [.file(ca.caCertificateFile.path)]
        var configuration = HTTPClient.Configuration(tlsConfiguration: tls)
        configuration.connectionPool.concurrentHTTP1ConnectionsPerHostSoftLimit = connections
        let http = HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)

        var allowed = CharacterSet.alphanumerics
        allowed.insert(charactersIn: "-._~")
        let form = [
            "grant_type=client_credentials", "client_id=\(client.appId)",
            "client_secret=\(client.secret!.addingPercentEncoding(withAllowedCharacters: allowed)!)",
            "scope=https%3A%2F%2Fgraph.microsoft.com%2F.default",
        ].joined(separator: "&")

        print(
            "Identity token benchmark: \(cores) cores, \(Int(seconds)) s per phase, \(connections) keep-alive connections, SQLite file"
        )
        print(String(format: "  raw RS256 signatures/s (%d threads)          %8.0f", cores, rawRate))
        for (label, base) in [("HTTP ", plain.baseURL), ("HTTPS", https.baseURL)] {
            let healthURL = base + "/healthz"
            let health: @Sendable () async throws -> Void = {
                let response = try await http.execute(HTTPClientRequest(url: healthURL), timeout: .seconds(10))
                _ = try await response.body.collect(upTo: 1 << 10)
            }
            let tokenURL = base + IdentityPath.v2Token(tenant: tenant)
            let issue: @Sendable () async throws -> Void = {
                var request = HTTPClientRequest(url: tokenURL)
                request.method = .POST
                request.headers.add(name: "Content-Type", value: "application/x-www-form-urlencoded")
                request.body = .bytes(ByteBuffer(string: form))
                let response = try await http.execute(request, timeout: .seconds(10))
                let body = try await response.body.collect(upTo: 1 << 16)
                guard response.status == .ok else {
                    throw Abort(
                        .internalServerError, reason: "token request failed: \(response.status) \(String(buffer: body))"
                    )
                }
            }
            for _ in 0..<100 { try await issue() }
            let healthRate = try await Measure.rate(workers: connections, duration: seconds, health)
            let tokenRate = try await Measure.rate(workers: connections, duration: seconds, issue)
            print(String(format: "  %@ GET /healthz requests/s                  %8.0f", label, healthRate))
            print(
                String(
                    format: "  %@ client-credentials tokens/s              %8.0f  (%.1f%% of raw signing)", label,
                    tokenRate, tokenRate / rawRate * 100))
        }

        if let wrk = Measure.wrkPath {
            let health = try await Measure.wrk(
                wrk, url: plain.baseURL + "/healthz", body: nil, seconds: seconds, connections: connections,
                directory: directory)
            let tokens = try await Measure.wrk(
                wrk, url: plain.baseURL + IdentityPath.v2Token(tenant: tenant), body: form, seconds: seconds,
                connections: connections, directory: directory)
            print(String(format: "  HTTP  GET /healthz requests/s (wrk)            %8.0f", health))
            print(
                String(
                    format: "  HTTP  client-credentials tokens/s (wrk)        %8.0f  (%.1f%% of raw signing)", tokens,
                    tokens / rawRate * 100))
        }

        try await http.shutdown()
        for service in [https, plain] {
            try await service.app.drainAndShutdown()
        }
    }

    struct RunningIdentity {
        let app: Application
        let baseURL: String
    }

    static func startIdentity(database: DatabaseLocation, masterKey: MasterKey, tls: TLSSettings) async throws
        -> RunningIdentity
    {
        let app = try await Application.make(.production)
        let config = IdentityConfig(
            endpoint: ServiceEndpoint(host: "127.0.0.1", port: 0, usesTLS: tls.servesTLS), database: database,
            masterKey: masterKey, tls: tls)
        try await configure(app, config: config)
        try await app.prepareIdentity()
        try await app.server.start(address: .hostname("127.0.0.1", port: 0))
        let port = (app.guardedServer?.localAddress?.port)!
        return RunningIdentity(app: app, baseURL: "\(tls.servesTLS ? "https" : "http")://127.0.0.1:\(port)")
    }
}

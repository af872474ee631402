import AsyncHTTPClient
import Crypto
import Foundation
import Identity
import NIOCore
import NIOHTTP1
import ServerSupport
import Vapor
import WireModels

// Client-credentials tokens issued per second over HTTPS, next to raw RS256 signatures per second
// on the same machine in the same run. Run: swift run -c release IdentityBenchmark [seconds] [connections]

@main
enum IdentityBenchmark {
    static func main() async throws {
        let arguments = CommandLine.arguments
        let seconds = arguments.count > 1 ? Double(arguments[1]) ?? 5 : 5
        let connections = arguments.count > 2 ? Int(arguments[2]) ?? 8 : 8
        let cores = ProcessInfo.processInfo.activeProcessorCount

        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = .error
            return handler
        }

        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("m365-bench-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: directory) }
        let ca = DevCertificateAuthority(dataDirectory: directory)
        try ca.ensure()
        let masterKey = MasterKey(key: SymmetricKey(size: .bits256))

        let app = try await Application.make(.production)
        let config = IdentityConfig(
            endpoint: ServiceEndpoint(host: "127.0.0.1", port: 0, usesTLS: true),
            database: .sqliteFile(directory.appendingPathComponent("identity.sqlite")), masterKey: masterKey,
            tls: .development(ca))
        try await configure(app, config: config)
        try await app.prepareIdentity()
        let admin = DirectoryAdmin(database: app.db) { try Bcrypt.hash($0) }
        _ = try await admin.createTenant(.init(name: "Bench", domains: ["bench.onmicrosoft.com"]))
        let client = try await admin.createApp(tenant: "bench.onmicrosoft.com", .init(displayName: "Bench client"))
        _ = try await admin.grant(
            tenant: "bench.onmicrosoft.com", client: client.appId,
            .init(resource: MicrosoftGraphResource.identifierURI, role: MicrosoftGraphResource.Role.directoryReadAll))
        try await app.server.start(address: .hostname("127.0.0.1", port: 0))
        let port = app.http.server.shared.localAddress!.port!
        let key = try await app.identity.keyRing.activeKey(on: app.db)

        // A signing input the size of a real v1 app token.
        var claims = TokenClaims()
        claims.aud = "https://graph.microsoft.com"
        claims.iss = "https://127.0.0.1:8443/\(UUID().uuidString.lowercased())/"
        claims.appid = client.appId
        claims.roles = ["Directory.Read.All"]
        let signingInput = Data(String(repeating: "x", count: 700).utf8)
        let privateKey = key.privateKey
        let rawRate = try await measure(workers: cores, duration: seconds) {
            _ = try privateKey.signature(for: signingInput, padding: .insecurePKCS1v1_5)
        }

        var tls = TLSConfiguration.makeClientConfiguration()
        tls.additionalTrustRoots = [.file(ca.caCertificateFile.path)]
        var clientConfiguration = HTTPClient.Configuration(tlsConfiguration: tls)
        clientConfiguration.connectionPool.concurrentHTTP1ConnectionsPerHostSoftLimit = connections
        let http = HTTPClient(eventLoopGroupProvider: .singleton, configuration: clientConfiguration)
        let form = "grant_type=client_credentials&client_id=\(client.appId)&client_secret=\(client.secret!.addingPercentEncoding(withAllowedCharacters: .alphanumerics)!)&scope=https%3A%2F%2Fgraph.microsoft.com%2F.default"
        let url = "https://127.0.0.1:\(port)/bench.onmicrosoft.com/oauth2/v2.0/token"
        let issue: @Sendable () async throws -> Void = {
            var request = HTTPClientRequest(url: url)
            request.method = .POST
            request.headers.add(name: "Content-Type", value: "application/x-www-form-urlencoded")
            request.body = .bytes(ByteBuffer(string: form))
            let response = try await http.execute(request, timeout: .seconds(10))
            let body = try await response.body.collect(upTo: 1 << 16)
            guard response.status == .ok else {
                throw Abort(.internalServerError, reason: "token request failed: \(response.status) \(String(buffer: body))")
            }
        }
        let healthURL = "https://127.0.0.1:\(port)/healthz"
        let health: @Sendable () async throws -> Void = {
            let response = try await http.execute(HTTPClientRequest(url: healthURL), timeout: .seconds(10))
            _ = try await response.body.collect(upTo: 1 << 10)
        }
        for _ in 0..<50 { try await issue() }
        let healthRate = try await measure(workers: connections, duration: seconds, health)
        let tokenRate = try await measure(workers: connections, duration: seconds, issue)

        print("Identity token benchmark (\(cores) cores, \(Int(seconds)) s per phase, \(connections) HTTPS connections, SQLite file)")
        print(String(format: "  raw RS256 signatures/s (%d threads): %8.0f", cores, rawRate))
        print(String(format: "  GET /healthz requests/s over HTTPS:     %8.0f", healthRate))
        print(String(format: "  client-credentials tokens/s over HTTPS: %8.0f", tokenRate))
        print(String(format: "  ratio tokens/signatures:                %7.1f%%", tokenRate / rawRate * 100))

        try await http.shutdown()
        await app.server.shutdown()
        try await app.asyncShutdown()
    }

    /// Runs `work` on `workers` concurrent tasks for `duration` seconds; returns completed operations per second.
    static func measure(workers: Int, duration: Double, _ work: @escaping @Sendable () async throws -> Void) async throws -> Double {
        let deadline = ContinuousClock.now.advanced(by: .milliseconds(Int(duration * 1000)))
        let start = ContinuousClock.now
        let total = try await withThrowingTaskGroup(of: Int.self) { group in
            for _ in 0..<workers {
                group.addTask {
                    var count = 0
                    while ContinuousClock.now < deadline {
                        try await work()
                        count += 1
                    }
                    return count
                }
            }
            return try await group.reduce(0, +)
        }
        let elapsed = start.duration(to: .now)
        return Double(total) / (Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18)
    }

}

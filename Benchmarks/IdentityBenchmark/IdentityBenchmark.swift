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
/// Run: `swift run -c release IdentityBenchmark [seconds per phase] [connections]`. The in-process load generator's
/// CPU time counts against the endpoint's rate, as a co-located client's would; when `wrk` is installed, the HTTP
/// endpoint is also driven by it from a separate, lighter process.
@main
enum IdentityBenchmark {
    static let tenant = "bench.onmicrosoft.com"

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
        let rawRate = try await measure(workers: cores, duration: seconds) {
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
            let healthRate = try await measure(workers: connections, duration: seconds, health)
            let tokenRate = try await measure(workers: connections, duration: seconds, issue)
            print(String(format: "  %@ GET /healthz requests/s                  %8.0f", label, healthRate))
            print(
                String(
                    format: "  %@ client-credentials tokens/s              %8.0f  (%.1f%% of raw signing)", label,
                    tokenRate, tokenRate / rawRate * 100))
        }

        if let wrk = ["/usr/bin/wrk", "/usr/local/bin/wrk"].first(where: FileManager.default.isExecutableFile) {
            let health = try runWrk(
                wrk, url: plain.baseURL + "/healthz", body: nil, seconds: seconds, connections: connections,
                directory: directory)
            let tokens = try runWrk(
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
            await service.app.server.shutdown()
            try await service.app.asyncShutdown()
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
        let port = app.http.server.shared.localAddress!.port!
        return RunningIdentity(app: app, baseURL: "\(tls.servesTLS ? "https" : "http")://127.0.0.1:\(port)")
    }

    /// Drives `url` with wrk (one thread) and returns its requests per second; any non-2xx answer is an error.
    static func runWrk(_ wrk: String, url: String, body: String?, seconds: Double, connections: Int, directory: URL)
        throws -> Double
    {
        var arguments = ["-t1", "-c\(connections)", "-d\(Int(seconds))s"]
        if let body {
            let script = directory.appendingPathComponent("post.lua")
            try """
            wrk.method = "POST"
            wrk.body = "\(body)"
            wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"
            """.write(to: script, atomically: true, encoding: .utf8)
            arguments += ["-s", script.path]
        }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: wrk)
        process.arguments = arguments + [url]
        let output = Pipe()
        process.standardOutput = output
        process.standardError = output
        try process.run()
        let text = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        guard !text.contains("Non-2xx"),
            let line = text.split(separator: "\n").first(where: { $0.hasPrefix("Requests/sec:") }),
            let rate = Double(line.dropFirst("Requests/sec:".count).trimmingCharacters(in: .whitespaces))
        else {
            throw Abort(.internalServerError, reason: "wrk run failed:\n\(text)")
        }
        return rate
    }

    /// Runs `work` on `workers` concurrent tasks for `duration` seconds; returns completed operations per second.
    static func measure(workers: Int, duration: Double, _ work: @escaping @Sendable () async throws -> Void)
        async throws -> Double
    {
        let start = ContinuousClock.now
        let deadline = start.advanced(by: .milliseconds(Int(duration * 1000)))
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

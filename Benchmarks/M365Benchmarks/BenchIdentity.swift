import Foundation
import Identity
import ServerSupport
import TestSupport
import Vapor

/// Identity as the service benchmarks run it: listening on loopback HTTP, its SQLite file in the run's folder.
struct BenchIdentity {
    let app: Application
    let url: String

    static func start(in directory: URL, masterKey: MasterKey) async throws -> BenchIdentity {
        let port = freeLoopbackPort()
        let app = try await Application.make(.production)
        try await Identity.configure(
            app,
            config: IdentityConfig(
                endpoint: ServiceEndpoint(host: "127.0.0.1", port: port, usesTLS: false),
                database: .sqliteFile(directory.appendingPathComponent("identity.sqlite")), masterKey: masterKey,
                tls: nil, passwordCost: 4))
        try await app.prepareIdentity()
        try await app.server.start(address: .hostname("127.0.0.1", port: port))
        return BenchIdentity(app: app, url: "http://127.0.0.1:\(port)")
    }

    func stop() async throws {
        await app.server.shutdown()
        try await app.asyncShutdown()
    }
}

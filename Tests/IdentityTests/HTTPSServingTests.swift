import Crypto
import Foundation
import ServerSupport
import TestSupport
import Testing
import Vapor
import WireModels

@testable import Identity

@Suite("Serving over HTTPS with the development CA")
struct HTTPSServingTests {
    @Test func identityServesTLSAndItsOwnClientTrustsTheDevCA() async throws {
        TestLogging.bootstrap()
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("m365-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: directory) }
        let ca = DevCertificateAuthority(dataDirectory: directory)
        try ca.ensure()

        let app = try await Application.make(.testing)
        do {
            var config = identityConfig(clock: TestClock(Date()))
            config.tls = .development(ca)
            config.endpoint = ServiceEndpoint(host: "127.0.0.1", port: 0, usesTLS: true)
            try await configure(app, config: config)
            try await app.prepareIdentity()
            try await app.server.start(address: .hostname("127.0.0.1", port: 0))
            let port = try #require(app.http.server.shared.localAddress?.port)

            for host in ["127.0.0.1", "localhost"] {
                let response = try await app.client.get(URI(string: "https://\(host):\(port)/healthz"))
                #expect(response.status == .ok)
            }
            let discovery = try await app.client.get(
                URI(string: "https://127.0.0.1:\(port)/common/v2.0/.well-known/openid-configuration"))
            #expect(discovery.status == .ok)
        } catch {
            await app.server.shutdown()
            try? await app.asyncShutdown()
            throw error
        }
        await app.server.shutdown()
        try await app.asyncShutdown()
    }
}

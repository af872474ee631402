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
            let port = try #require(app.guardedServer?.localAddress?.port)

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

@Suite("Identity: requests refused before routing")
struct IdentityParserRefusalTests {
    @Test func aHugeHeaderIsAnEntraShaped431AndIdentityKeepsServing() async throws {
        try await withIdentity { app, _ in
            let port = freeLoopbackPort()
            try await app.server.start(address: .hostname("127.0.0.1", port: port))
            do {
                let request =
                    "POST /common/oauth2/v2.0/token HTTP/1.1\r\nHost: x\r\nX-Padding: "
                    + String(repeating: "p", count: 90_000) + "\r\nContent-Length: 0\r\n\r\n"
                let answer = try await RawHTTP.exchange(port: port, Array(request.utf8))
                #expect(answer.hasPrefix("HTTP/1.1 431"), "\(answer.prefix(200))")
                let body = try #require(answer.components(separatedBy: "\r\n\r\n").last)
                let error = try JSONDecoder().decode(EntraErrorBody.self, from: Data(body.utf8))
                #expect(error.error == "invalid_request")
                #expect(error.errorCodes == [9002313])
                #expect(error.errorDescription.contains("larger than 80 KB"))
                let health = try await RawHTTP.exchange(
                    port: port, Array("GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".utf8))
                #expect(health.hasPrefix("HTTP/1.1 200 OK"))
            } catch {
                await app.server.shutdown()
                throw error
            }
            await app.server.shutdown()
        }
    }
}

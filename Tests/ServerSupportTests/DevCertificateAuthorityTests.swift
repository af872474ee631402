import Foundation
import NIOSSL
import Testing
import X509

@testable import ServerSupport

@Suite("Development certificates")
struct DevCertificateAuthorityTests {
    @Test func createsACAAndALoopbackServerCertificateWithPrivateKeys() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("m365-\(UUID().uuidString)")
        let ca = DevCertificateAuthority(dataDirectory: directory)
        #expect(try ca.ensure())
        #expect(try ca.ensure() == false)

        for key in [ca.caKeyFile, ca.serverKeyFile] {
            let mode = try FileManager.default.attributesOfItem(atPath: key.path)[.posixPermissions] as? NSNumber
            #expect(mode?.intValue == 0o600)
        }
        let server = try Certificate(pemEncoded: String(contentsOf: ca.serverCertificateFile, encoding: .utf8))
        let root = try Certificate(pemEncoded: String(contentsOf: ca.caCertificateFile, encoding: .utf8))
        #expect(server.issuer == root.subject)
        let names = try #require(try server.extensions.subjectAlternativeNames)
        #expect(names.contains(.dnsName("localhost")))
        #expect(names.count == 3)
        #expect(try root.extensions.basicConstraints == .isCertificateAuthority(maxPathLength: 0))

        let settings = TLSSettings.development(ca)
        _ = try settings.serverConfiguration()
        let client = try settings.clientConfiguration()
        #expect(client.additionalTrustRoots.count == 1)
    }
}

@Suite("TLS settings")
struct TLSSettingsTests {
    @Test func plainHTTPStillTrustsTheGivenCAs() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("m365-\(UUID().uuidString)")
        let ca = DevCertificateAuthority(dataDirectory: directory)
        try ca.ensure()
        let settings = TLSSettings(server: nil, trustedCAFiles: [ca.caCertificateFile])
        #expect(!settings.servesTLS)
        #expect(try settings.serverConfiguration() == nil)
        #expect(try settings.clientConfiguration().additionalTrustRoots.count == 1)
    }
}

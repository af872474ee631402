import Foundation
import NIOSSL
import Vapor

/// Which certificate a service serves, if any, and which extra CAs its HTTP clients trust.
package struct TLSSettings: Sendable {
    /// PEM files of the certificate chain the server presents and its private key.
    package struct ServerCertificate: Sendable {
        package var certificateFile: URL
        package var privateKeyFile: URL

        package init(certificateFile: URL, privateKeyFile: URL) {
            self.certificateFile = certificateFile
            self.privateKeyFile = privateKeyFile
        }
    }

    /// nil serves plain HTTP (TLS ends at a load balancer).
    package var server: ServerCertificate?
    /// CA files the services' own HTTP clients trust on top of the system roots (the dev CA and any bundle given).
    package var trustedCAFiles: [URL]

    package init(server: ServerCertificate?, trustedCAFiles: [URL]) {
        self.server = server
        self.trustedCAFiles = trustedCAFiles
    }

    package var servesTLS: Bool { server != nil }

    /// Settings that serve the dev certificate and trust the dev CA.
    package static func development(_ ca: DevCertificateAuthority, extraCAFiles: [URL] = []) -> TLSSettings {
        TLSSettings(
            server: ServerCertificate(certificateFile: ca.serverCertificateFile, privateKeyFile: ca.serverKeyFile),
            trustedCAFiles: [ca.caCertificateFile] + extraCAFiles)
    }

    /// The server side, or nil when `server` is nil.
    package func serverConfiguration() throws -> TLSConfiguration? {
        guard let server else { return nil }
        let chain = try NIOSSLCertificate.fromPEMFile(server.certificateFile.path).map {
            NIOSSLCertificateSource.certificate($0)
        }
        let key = try NIOSSLPrivateKey(file: server.privateKeyFile.path, format: .pem)
        return TLSConfiguration.makeServerConfiguration(certificateChain: chain, privateKey: .privateKey(key))
    }

    package func clientConfiguration() throws -> TLSConfiguration {
        var configuration = TLSConfiguration.makeClientConfiguration()
        let extra =
            try trustedCAFiles
            .filter { FileManager.default.fileExists(atPath: $0.path) }
            .flatMap { try NIOSSLCertificate.fromPEMFile($0.path) }
        if !extra.isEmpty {
            configuration.additionalTrustRoots = [.certificates(extra)]
        }
        return configuration
    }
}

extension Application {
    /// Serves HTTPS when the settings have a certificate, and makes `app.client` trust their CAs either way.
    package func useTLS(_ settings: TLSSettings) throws {
        http.server.configuration.tlsConfiguration = try settings.serverConfiguration()
        http.client.configuration.tlsConfiguration = try settings.clientConfiguration()
    }
}

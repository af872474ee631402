import Foundation
import NIOSSL
import Vapor

/// Where a service's TLS certificate comes from and which extra CAs its HTTP clients trust.
package struct TLSSettings: Sendable {
    /// PEM certificate chain the server presents.
    package var certificateFile: URL
    /// PEM private key of that certificate.
    package var privateKeyFile: URL
    /// CA files the services' own HTTP clients trust on top of the system roots (the dev CA and any bundle given).
    package var trustedCAFiles: [URL]

    package init(certificateFile: URL, privateKeyFile: URL, trustedCAFiles: [URL]) {
        self.certificateFile = certificateFile
        self.privateKeyFile = privateKeyFile
        self.trustedCAFiles = trustedCAFiles
    }

    /// Settings that serve the dev certificate and trust the dev CA.
    package static func development(_ ca: DevCertificateAuthority, extraCAFiles: [URL] = []) -> TLSSettings {
        TLSSettings(
            certificateFile: ca.serverCertificateFile, privateKeyFile: ca.serverKeyFile,
            trustedCAFiles: [ca.caCertificateFile] + extraCAFiles)
    }

    package func serverConfiguration() throws -> TLSConfiguration {
        let chain = try NIOSSLCertificate.fromPEMFile(certificateFile.path).map {
            NIOSSLCertificateSource.certificate($0)
        }
        let key = try NIOSSLPrivateKey(file: privateKeyFile.path, format: .pem)
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
    /// Serves HTTPS with these settings and makes `app.client` trust their CAs.
    package func useTLS(_ settings: TLSSettings) throws {
        http.server.configuration.tlsConfiguration = try settings.serverConfiguration()
        http.client.configuration.tlsConfiguration = try settings.clientConfiguration()
    }
}

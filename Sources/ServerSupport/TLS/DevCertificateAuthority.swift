import Crypto
import Foundation
import SwiftASN1
import X509

/// The local certificate authority and the loopback server certificate that development runs use.
///
/// Files under `{data}/tls/`: `ca.pem` (hand it to curl and client libraries), `ca-key.pem`,
/// `server.pem` and `server-key.pem`. Keys are written with mode 0600.
package struct DevCertificateAuthority: Sendable {
    package let directory: URL

    package var caCertificateFile: URL { directory.appendingPathComponent("ca.pem") }
    package var caKeyFile: URL { directory.appendingPathComponent("ca-key.pem") }
    package var serverCertificateFile: URL { directory.appendingPathComponent("server.pem") }
    package var serverKeyFile: URL { directory.appendingPathComponent("server-key.pem") }

    package init(dataDirectory: URL) {
        self.directory = dataDirectory.appendingPathComponent("tls", isDirectory: true)
    }

    package var exists: Bool {
        [caCertificateFile, serverCertificateFile, serverKeyFile]
            .allSatisfy { FileManager.default.fileExists(atPath: $0.path) }
    }

    /// Creates the CA and server certificate unless they exist (or always, with `force`).
    /// - Returns: whether new files were written.
    @discardableResult
    package func ensure(force: Bool = false, now: Date = Date()) throws -> Bool {
        if exists && !force { return false }
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)

        let caKey = P256.Signing.PrivateKey()
        let caPublicKey = Certificate.PublicKey(caKey.publicKey)
        let caName = try DistinguishedName {
            OrganizationName("m365-support")
            CommonName("m365-support local development CA")
        }
        let caKeyId = SubjectKeyIdentifier(hash: caPublicKey)
        let ca = try Certificate(
            version: .v3,
            serialNumber: Certificate.SerialNumber(),
            publicKey: caPublicKey,
            notValidBefore: now.addingTimeInterval(-3600),
            notValidAfter: now.addingTimeInterval(10 * 365 * 86400),
            issuer: caName,
            subject: caName,
            signatureAlgorithm: .ecdsaWithSHA256,
            extensions: try Certificate.Extensions {
                Critical(BasicConstraints.isCertificateAuthority(maxPathLength: 0))
                Critical(KeyUsage(digitalSignature: true, keyCertSign: true, cRLSign: true))
                caKeyId
            },
            issuerPrivateKey: Certificate.PrivateKey(caKey)
        )

        let serverKey = P256.Signing.PrivateKey()
        let serverPublicKey = Certificate.PublicKey(serverKey.publicKey)
        let server = try Certificate(
            version: .v3,
            serialNumber: Certificate.SerialNumber(),
            publicKey: serverPublicKey,
            notValidBefore: now.addingTimeInterval(-3600),
            // Under 398 days, the longest server certificate lifetime browsers accept.
            notValidAfter: now.addingTimeInterval(397 * 86400),
            issuer: caName,
            subject: try DistinguishedName {
                OrganizationName("m365-support")
                CommonName("localhost")
            },
            signatureAlgorithm: .ecdsaWithSHA256,
            extensions: try Certificate.Extensions {
                Critical(BasicConstraints.notCertificateAuthority)
                Critical(KeyUsage(digitalSignature: true, keyEncipherment: true))
                try ExtendedKeyUsage([.serverAuth])
                SubjectKeyIdentifier(hash: serverPublicKey)
                AuthorityKeyIdentifier(keyIdentifier: caKeyId.keyIdentifier)
                SubjectAlternativeNames([
                    .dnsName("localhost"),
                    .ipAddress(ASN1OctetString(contentBytes: [127, 0, 0, 1])),
                    .ipAddress(ASN1OctetString(contentBytes: ArraySlice([UInt8](repeating: 0, count: 15) + [1]))),
                ])
            },
            issuerPrivateKey: Certificate.PrivateKey(caKey)
        )

        try SecureFile.write(caKey.pemRepresentation, to: caKeyFile, private: true)
        try SecureFile.write(serverKey.pemRepresentation, to: serverKeyFile, private: true)
        try SecureFile.write(try server.serializeAsPEM().pemString + "\n", to: serverCertificateFile, private: false)
        try SecureFile.write(try ca.serializeAsPEM().pemString + "\n", to: caCertificateFile, private: false)
        return true
    }
}

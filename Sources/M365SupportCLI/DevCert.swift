import ArgumentParser
import Foundation
import ServerSupport

struct DevCert: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "dev-cert",
        abstract: "Create the local CA and a certificate for localhost, 127.0.0.1 and ::1 under DATA/tls/.")

    @OptionGroup var data: DataOptions

    @Flag(help: "Replace existing files.")
    var force = false

    func run() async throws {
        let ca = DevCertificateAuthority(dataDirectory: data.dataURL)
        let created = try ca.ensure(force: force)
        print(
            created
                ? "Created the development CA and server certificate."
                : "The development certificate exists (use --force to replace it).")
        print("CA certificate (trust it in curl and client libraries): \(ca.caCertificateFile.path)")
        print("  curl --cacert \(ca.caCertificateFile.path) https://127.0.0.1:8443/healthz")
    }
}

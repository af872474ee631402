import Foundation
import Vapor

/// Where one service listens and how others reach it.
package struct ServiceEndpoint: Sendable, Equatable {
    package var host: String
    package var port: Int
    package var usesTLS: Bool
    /// Base URL written into documents and tokens (issuer, discovery endpoints, links); no trailing slash.
    package var publicURL: String

    /// Whether browsers reach the service over HTTPS (directly or through a balancer): its cookies are `Secure`.
    package var publicURLIsHTTPS: Bool { publicURL.hasPrefix("https:") }

    package init(host: String, port: Int, usesTLS: Bool, publicURL: String? = nil) {
        self.host = host
        self.port = port
        self.usesTLS = usesTLS
        let scheme = usesTLS ? "https" : "http"
        let shownHost = host == "0.0.0.0" || host == "::" ? "127.0.0.1" : host
        let base = publicURL ?? "\(scheme)://\(shownHost.contains(":") ? "[\(shownHost)]" : shownHost):\(port)"
        self.publicURL = base.hasSuffix("/") ? String(base.dropLast()) : base
    }
}

extension Application {
    /// Binds the HTTP server to this endpoint.
    package func bind(to endpoint: ServiceEndpoint) {
        http.server.configuration.hostname = endpoint.host
        http.server.configuration.port = endpoint.port
    }
}

import AsyncHTTPClient
import Foundation
import NIOCore
import ServerSupport
import Vapor

/// An app-only (client credentials) token for Microsoft Graph or anything that speaks its token endpoint: the
/// service health sync and the directory read of case contacts both ask for one.
struct AppOnlyToken: Sendable {
    let http: any OutboundHTTPClient
    let logger: Logger

    struct Refusal: Error, CustomStringConvertible {
        let description: String
    }

    /// A token from `url` for `scope`; a refusal names the host and what it said, never the secret.
    func fetch(url: String, clientId: String, secret: String, scope: String, correlationId: String? = nil)
        async throws -> (token: String, expiresIn: TimeInterval)
    {
        var request = HTTPClientRequest(url: url)
        request.method = .POST
        request.headers.add(name: "Content-Type", value: "application/x-www-form-urlencoded")
        let form = FormBody.encode([
            ("grant_type", "client_credentials"), ("client_id", clientId), ("client_secret", secret),
            ("scope", scope),
        ])
        let exchange: OutboundExchange
        do {
            exchange = try await http.send(
                request, body: ByteBuffer(string: form), source: "oauth", correlationId: correlationId,
                secrets: [secret], log: ProcessOutboundLog(), logger: logger)
        } catch let failure as OutboundFailure {
            throw Refusal(description: failure.description)
        }
        let object = try? JSONSerialization.jsonObject(with: Data(exchange.body.readableBytesView)) as? [String: Any]
        guard exchange.status == .ok, let token = object?["access_token"] as? String, !token.isEmpty else {
            let description = (object?["error_description"] as? String).map { String($0.prefix(300)) }
            throw Refusal(
                description: "The token endpoint \(URL(string: url)?.host ?? url) refused the credentials: "
                    + Redaction.text(description ?? "HTTP \(exchange.status.code)", secrets: [secret])
                    + " (outbound log \(exchange.logId))")
        }
        let lifetime =
            (object?["expires_in"] as? NSNumber)?.doubleValue ?? (object?["expires_in"] as? String).flatMap(Double.init)
            ?? 3600
        return (token, lifetime)
    }
}

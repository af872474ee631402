import AsyncHTTPClient
import Crypto
import CryptoExtras
import Foundation
import Logging
import Synchronization

/// OIDC metadata and signing keys per metadata URL, kept for a lifespan; an unknown `kid` fetches them again,
/// at most once per ``keyRefetchInterval`` — a provider may sign with a new key as soon as it publishes it,
/// and a flood of tokens with made-up kids must not become a flood of fetches.
package final class JWKSCache: Sendable {
    package struct Metadata: Sendable {
        package let issuer: String
        package let keys: [String: _RSA.Signing.PublicKey]
        package let fetchedAt: Date

        package init(issuer: String, keys: [String: _RSA.Signing.PublicKey], fetchedAt: Date) {
            self.issuer = issuer
            self.keys = keys
            self.fetchedAt = fetchedAt
        }
    }

    package static let keyRefetchInterval: TimeInterval = 10

    private let entries = Mutex<[String: Metadata]>([:])
    private let now: @Sendable () -> Date

    package init(now: @escaping @Sendable () -> Date) {
        self.now = now
    }

    /// The metadata of `url` and the key `kid` names in it (nil when the provider does not publish it).
    package func key(
        _ kid: String, for url: String, lifespan: TimeInterval, fetch: () async throws -> Metadata
    ) async throws -> (metadata: Metadata, key: _RSA.Signing.PublicKey?) {
        var metadata: Metadata
        if let cached = entries.withLock({ $0[url] }), now().timeIntervalSince(cached.fetchedAt) < lifespan {
            metadata = cached
        } else {
            metadata = try await refresh(url, fetch: fetch)
        }
        if metadata.keys[kid] == nil, now().timeIntervalSince(metadata.fetchedAt) > Self.keyRefetchInterval {
            metadata = try await refresh(url, fetch: fetch)
        }
        return (metadata, metadata.keys[kid])
    }

    private func refresh(_ url: String, fetch: () async throws -> Metadata) async throws -> Metadata {
        let fresh = try await fetch()
        entries.withLock { $0[url] = fresh }
        return fresh
    }

    package func removeAll() { entries.withLock { $0.removeAll() } }
}

/// Reads an OIDC provider's metadata document and its JWKS through a service's logged outbound client.
package struct OIDCKeySource: Sendable {
    package let http: any OutboundHTTPClient
    package let log: any OutboundCallLog
    package let logger: Logger
    package let correlationId: String?
    package let now: @Sendable () -> Date

    package init(
        http: any OutboundHTTPClient, log: any OutboundCallLog, logger: Logger, correlationId: String?,
        now: @escaping @Sendable () -> Date
    ) {
        self.http = http
        self.log = log
        self.logger = logger
        self.correlationId = correlationId
        self.now = now
    }

    /// The issuer and RSA signing keys (`use` absent or `sig`) of the provider at `metadataURL`.
    package func fetch(_ metadataURL: String) async throws -> JWKSCache.Metadata {
        let document = try await json(metadataURL)
        guard let issuer = document["issuer"] as? String, let jwksURI = document["jwks_uri"] as? String else {
            throw JWTRefusal(reason: "the metadata at \(metadataURL) has no issuer or jwks_uri")
        }
        let jwks = try await json(jwksURI)
        var keys: [String: _RSA.Signing.PublicKey] = [:]
        for case let jwk as [String: Any] in jwks["keys"] as? [Any] ?? [] {
            guard jwk["kty"] as? String == "RSA", let kid = jwk["kid"] as? String,
                (jwk["use"] as? String).map({ $0 == "sig" }) ?? true,
                let n = (jwk["n"] as? String).flatMap({ Data(base64URLEncoded: $0) }),
                let e = (jwk["e"] as? String).flatMap({ Data(base64URLEncoded: $0) }),
                let key = try? _RSA.Signing.PublicKey(n: n, e: e)
            else { continue }
            keys[kid] = key
        }
        return JWKSCache.Metadata(issuer: issuer, keys: keys, fetchedAt: now())
    }

    private func json(_ url: String) async throws -> [String: Any] {
        var request = HTTPClientRequest(url: url)
        request.headers.add(name: "Accept", value: "application/json")
        let exchange = try await http.send(
            request, body: nil, source: "oidc", correlationId: correlationId, secrets: [], log: log, logger: logger)
        guard exchange.status == .ok,
            let object = try? JSONSerialization.jsonObject(with: Data(exchange.body.readableBytesView))
                as? [String: Any]
        else { throw JWTRefusal(reason: "\(url) answered \(exchange.status.code), not a JSON document") }
        return object
    }
}

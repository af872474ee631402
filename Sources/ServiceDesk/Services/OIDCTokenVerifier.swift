import AsyncHTTPClient
import Crypto
import CryptoExtras
import Foundation
import NIOCore
import SQLKit
import ServerSupport
import Synchronization
import Vapor

/// Verifies external bearer JWTs (Entra app tokens in the aad setup mode) against the Application Registry's
/// "OIDC provider" entities: the entity whose client ID is the token's audience names an OIDC provider
/// configuration; its metadata gives the issuer and the signing keys. Only RS256 is accepted.
struct OIDCTokenVerifier {
    /// Clock skew tolerated on `exp` and `nbf`.
    static let skew: TimeInterval = 60
    /// Shortest time between two fetches of a provider's keys for an unknown `kid`.
    static let keyRefetchInterval: TimeInterval = 10

    /// Why a token was refused; logged (never the token), never shown to the caller.
    struct Refusal: Error, Sendable, CustomStringConvertible {
        let reason: String
        var description: String { reason }
    }

    let sql: any SQLDatabase
    let cache: OIDCMetadataCache
    let http: any OutboundHTTPClient
    let now: @Sendable () -> Date
    let logger: Logger
    let correlationId: String?

    /// The desk user the token maps to.
    func verify(_ token: String) async throws -> DeskPrincipal {
        let parts = token.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 3, let headerData = Data(base64URLEncoded: String(parts[0])),
            let payloadData = Data(base64URLEncoded: String(parts[1])),
            let signature = Data(base64URLEncoded: String(parts[2])),
            let header = try? JSONSerialization.jsonObject(with: headerData) as? [String: Any],
            let claims = try? JSONSerialization.jsonObject(with: payloadData) as? [String: Any]
        else { throw Refusal(reason: "not a JWT") }
        guard header["alg"] as? String == "RS256" else {
            throw Refusal(reason: "algorithm '\(header["alg"] as? String ?? "none")' is not accepted (RS256 only)")
        }
        guard let kid = header["kid"] as? String else { throw Refusal(reason: "no key ID (kid) in the token header") }
        let audiences: [String] =
            if let single = claims["aud"] as? String { [single] } else { claims["aud"] as? [String] ?? [] }
        guard let provider = try await provider(forAudiences: audiences) else {
            throw Refusal(reason: "no active OIDC provider entity has the token's audience as its client ID")
        }

        var metadata = try await cache.metadata(for: provider.metadataURL, lifespan: provider.cacheLifespan) {
            try await fetch(provider.metadataURL)
        }
        if metadata.keys[kid] == nil, now().timeIntervalSince(metadata.fetchedAt) > Self.keyRefetchInterval {
            // Keys rotate, and a provider may sign with a new key as soon as it publishes it: a key newer than
            // the cached set is worth a fresh look, but not more often than this (unknown kids cost a fetch).
            metadata = try await cache.refresh(for: provider.metadataURL) { try await fetch(provider.metadataURL) }
        }
        guard let key = metadata.keys[kid] else { throw Refusal(reason: "unknown signing key '\(kid)'") }
        let signingInput = Data(token.utf8.prefix(parts[0].utf8.count + 1 + parts[1].utf8.count))
        guard
            key.isValidSignature(
                _RSA.Signing.RSASignature(rawRepresentation: signature), for: signingInput,
                padding: .insecurePKCS1v1_5)
        else { throw Refusal(reason: "bad signature") }

        let issuer = claims["iss"] as? String ?? ""
        var expectedIssuer = metadata.issuer
        if expectedIssuer.contains("{tenantid}") {
            // A multi-tenant issuer vouches for every tenant: the token's own `tid` fills it in only when the
            // configuration accepts that tenant.
            let tid = (claims["tid"] as? String ?? "").lowercased()
            guard !provider.acceptedTenants.isEmpty else {
                throw Refusal(
                    reason: "the provider's issuer '\(metadata.issuer)' is multi-tenant and the OIDC configuration "
                        + "lists no accepted tenants")
            }
            guard !tid.isEmpty, provider.acceptedTenants.contains(tid) else {
                throw Refusal(reason: "tenant '\(tid.prefix(64))' is not among the configuration's accepted tenants")
            }
            expectedIssuer = expectedIssuer.replacingOccurrences(of: "{tenantid}", with: tid)
        }
        guard issuer == expectedIssuer else {
            throw Refusal(reason: "issuer '\(issuer)' is not the provider's issuer '\(expectedIssuer)'")
        }
        let current = now().timeIntervalSince1970
        guard let expiry = Self.number(claims["exp"]), expiry + Self.skew > current else {
            throw Refusal(reason: "the token has expired")
        }
        if let notBefore = Self.number(claims["nbf"]), notBefore - Self.skew > current {
            throw Refusal(reason: "the token is not valid yet")
        }
        let claimValue =
            claims[provider.userClaim]
            ?? claims.first { $0.key.caseInsensitiveCompare(provider.userClaim) == .orderedSame }?.value
        guard let userValue = claimValue as? String, !userValue.isEmpty else {
            throw Refusal(reason: "the token has no '\(provider.userClaim)' claim")
        }
        guard
            let principal = try await DeskAuthenticator.principal(
                where: provider.userField, equals: userValue, sql: sql)
        else {
            throw Refusal(reason: "no active desk user has \(provider.userField) = '\(userValue)'")
        }
        return principal
    }

    struct Provider {
        let metadataURL: String
        let userClaim: String
        let userField: String
        let cacheLifespan: TimeInterval
        /// Lowercase tenant IDs a multi-tenant issuer may vouch for.
        let acceptedTenants: Set<String>
    }

    /// User fields a configuration may match on; `user_id` is the form's label for `user_name`.
    static let userFields = ["user_id": "user_name", "user_name": "user_name", "email": "email", "sys_id": "sys_id"]

    private func provider(forAudiences audiences: [String]) async throws -> Provider? {
        guard !audiences.isEmpty else { return nil }
        let rows = try await sql.raw(
            """
            SELECT c.oidc_metadata_url AS url, c.user_claim AS claim, c.user_field AS field,
                   c.oidc_config_cache_life_span AS lifespan, c.accepted_tenants AS tenants
            FROM \(ident: DeskTables.oauthEntity.databaseTable) e
            JOIN \(ident: DeskTables.oidcProviderConfiguration.databaseTable) c ON c.sys_id = e.oidc_provider_configuration
            WHERE e.type = 'oidc_provider' AND e.active = \(bind: true) AND e.client_id IN (\(binds: audiences))
            """
        ).all()
        guard let row = rows.first, let url = try row.decode(column: "url", as: String?.self), !url.isEmpty else {
            return nil
        }
        let field = try row.decode(column: "field", as: String?.self) ?? "user_name"
        return Provider(
            metadataURL: url,
            userClaim: (try row.decode(column: "claim", as: String?.self)).flatMap { $0.isEmpty ? nil : $0 } ?? "sub",
            userField: Self.userFields[field] ?? "user_name",
            cacheLifespan: TimeInterval(
                InputNumber.clamp(try row.decode(column: "lifespan", as: Int?.self) ?? 120, to: 0...525_600) * 60),
            acceptedTenants: Set(
                (try row.decode(column: "tenants", as: String?.self) ?? "").split(separator: ",")
                    .map { $0.trimmingCharacters(in: .whitespaces).lowercased() }.filter { !$0.isEmpty }))
    }

    /// Reads the provider's metadata and its JWKS through the logged outbound client.
    private func fetch(_ metadataURL: String) async throws -> OIDCMetadataCache.Metadata {
        let document = try await getJSON(metadataURL)
        guard let issuer = document["issuer"] as? String, let jwksURI = document["jwks_uri"] as? String else {
            throw Refusal(reason: "the metadata at \(metadataURL) has no issuer or jwks_uri")
        }
        let jwks = try await getJSON(jwksURI)
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
        return .init(issuer: issuer, keys: keys, fetchedAt: now())
    }

    private func getJSON(_ url: String) async throws -> [String: Any] {
        var request = HTTPClientRequest(url: url)
        request.headers.add(name: "Accept", value: "application/json")
        let exchange = try await http.send(
            request, source: "oidc", correlationId: correlationId, secrets: [], sql: sql, now: now, logger: logger)
        guard exchange.status == .ok,
            let object = try? JSONSerialization.jsonObject(with: Data(exchange.body.readableBytesView))
                as? [String: Any]
        else { throw Refusal(reason: "\(url) answered \(exchange.status.code), not a JSON document") }
        return object
    }

    private static func number(_ value: Any?) -> Double? {
        switch value {
        case let number as NSNumber: number.doubleValue
        case let text as String: Double(text)
        default: nil
        }
    }
}

/// OIDC metadata and signing keys per metadata URL, kept for the configuration's cache lifespan.
final class OIDCMetadataCache: Sendable {
    struct Metadata: Sendable {
        let issuer: String
        let keys: [String: _RSA.Signing.PublicKey]
        let fetchedAt: Date
    }

    private let entries = Mutex<[String: Metadata]>([:])
    private let now: @Sendable () -> Date

    init(now: @escaping @Sendable () -> Date) {
        self.now = now
    }

    func metadata(
        for url: String, lifespan: TimeInterval, fetch: () async throws -> Metadata
    ) async throws -> Metadata {
        if let cached = entries.withLock({ $0[url] }), now().timeIntervalSince(cached.fetchedAt) < lifespan {
            return cached
        }
        return try await refresh(for: url, fetch: fetch)
    }

    func refresh(for url: String, fetch: () async throws -> Metadata) async throws -> Metadata {
        let fresh = try await fetch()
        entries.withLock { $0[url] = fresh }
        return fresh
    }

    func removeAll() { entries.withLock { $0.removeAll() } }
}

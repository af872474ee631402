import Foundation

/// The checks every service makes on a bearer token from an OpenID Connect provider (Identity or Entra ID):
/// signed by a key the provider's metadata publishes, issued by the provider's issuer, inside its lifetime.
/// What the token may do — audience, tenant, roles, the user it maps to — each service decides afterwards.
package struct OIDCTokenCheck: Sendable {
    package let cache: JWKSCache
    package let source: OIDCKeySource

    package init(cache: JWKSCache, source: OIDCKeySource) {
        self.cache = cache
        self.source = source
    }

    /// The verified claims of `jwt`. `acceptedTenants` (lowercase tenant IDs) fill in a multi-tenant issuer's
    /// `{tenantid}`: such an issuer vouches for every tenant, so the token's own `tid` counts only when listed.
    package func verify(
        _ jwt: RS256JWT, metadataURL: String, lifespan: TimeInterval, acceptedTenants: Set<String> = [], now: Date
    ) async throws -> [String: Any] {
        let claims = try jwt.claimsObject()
        let (metadata, key) = try await cache.key(jwt.kid, for: metadataURL, lifespan: lifespan) {
            try await source.fetch(metadataURL)
        }
        guard let key else { throw JWTRefusal(reason: "unknown signing key '\(jwt.kid)'") }
        guard jwt.isSigned(by: key) else { throw JWTRefusal(reason: "bad signature") }

        let issuer = claims["iss"] as? String ?? ""
        var expectedIssuer = metadata.issuer
        if expectedIssuer.contains("{tenantid}") {
            let tid = (claims["tid"] as? String ?? "").lowercased()
            guard !acceptedTenants.isEmpty else {
                throw JWTRefusal(
                    reason: "the provider's issuer '\(metadata.issuer)' is multi-tenant and no accepted tenants are "
                        + "configured")
            }
            guard !tid.isEmpty, acceptedTenants.contains(tid) else {
                throw JWTRefusal(reason: "tenant '\(tid.prefix(64))' is not among the accepted tenants")
            }
            expectedIssuer = expectedIssuer.replacingOccurrences(of: "{tenantid}", with: tid)
        }
        guard issuer == expectedIssuer else {
            throw JWTRefusal(reason: "issuer '\(issuer.prefix(200))' is not the provider's issuer '\(expectedIssuer)'")
        }
        try RS256JWT.checkTimes(
            exp: RS256JWT.number(claims["exp"]), nbf: RS256JWT.number(claims["nbf"]), now: now)
        return claims
    }

    /// `aud` as a list, whether the token carries one string or several.
    package static func audiences(_ claims: [String: Any]) -> [String] {
        if let single = claims["aud"] as? String { return [single] }
        return claims["aud"] as? [String] ?? []
    }

    /// A string list claim (`roles`, `wids`), or the words of a space-separated one (`scp`).
    package static func list(_ claims: [String: Any], _ name: String) -> [String] {
        switch claims[name] {
        case let text as String: text.split(separator: " ").map(String.init)
        case let values as [Any]: values.compactMap { $0 as? String }
        default: []
        }
    }
}

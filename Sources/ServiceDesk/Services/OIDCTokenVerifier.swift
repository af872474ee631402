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
/// configuration; its metadata gives the issuer and the signing keys. The JWT checks themselves (RS256 only,
/// the key cache, times) are ServerSupport's, shared with every service.
struct OIDCTokenVerifier {
    typealias Refusal = JWTRefusal

    let sql: any SQLDatabase
    let cache: JWKSCache
    let http: any OutboundHTTPClient
    let now: @Sendable () -> Date
    let logger: Logger
    let correlationId: String?

    /// The desk user the token maps to.
    func verify(_ token: String) async throws -> DeskPrincipal {
        try await verifyWithEntity(token).principal
    }

    /// The desk user the token maps to, and the OIDC provider entity (`sys_id`) that vouched for it.
    func verifyWithEntity(_ token: String) async throws -> (principal: DeskPrincipal, entity: String) {
        let jwt = try RS256JWT.parse(token)
        let unverified = try jwt.claimsObject()
        guard let provider = try await provider(forAudiences: OIDCTokenCheck.audiences(unverified)) else {
            throw Refusal(reason: "no active OIDC provider entity has the token's audience as its client ID")
        }
        let source = OIDCKeySource(
            http: http, log: DeskOutboundLog(sql: sql, now: now, logger: logger), logger: logger,
            correlationId: correlationId, now: now)
        let claims = try await OIDCTokenCheck(cache: cache, source: source).verify(
            jwt, metadataURL: provider.metadataURL, lifespan: provider.cacheLifespan,
            acceptedTenants: provider.acceptedTenants, now: now())
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
        return (principal, provider.entity)
    }

    struct Provider {
        let entity: String
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
        // The audiences come from a token not yet verified: only a few are worth a look.
        let audiences = Array(audiences.prefix(10))
        guard !audiences.isEmpty else { return nil }
        let rows = try await sql.raw(
            """
            SELECT e.sys_id AS entity, c.oidc_metadata_url AS url, c.user_claim AS claim, c.user_field AS field,
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
            entity: try row.decode(column: "entity", as: String.self), metadataURL: url,
            userClaim: (try row.decode(column: "claim", as: String?.self)).flatMap { $0.isEmpty ? nil : $0 } ?? "sub",
            userField: Self.userFields[field] ?? "user_name",
            cacheLifespan: TimeInterval(
                InputNumber.clamp(try row.decode(column: "lifespan", as: Int?.self) ?? 120, to: 0...525_600) * 60),
            acceptedTenants: Set(
                (try row.decode(column: "tenants", as: String?.self) ?? "").split(separator: ",")
                    .map { $0.trimmingCharacters(in: .whitespaces).lowercased() }.filter { !$0.isEmpty }))
    }
}

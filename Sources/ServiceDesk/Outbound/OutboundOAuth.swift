import AsyncHTTPClient
import Foundation
import Logging
import NIOCore
import SQLKit
import ServerSupport

/// Access tokens from third-party OAuth providers (`oauth_entity` of type `oauth_provider`), asked for with an
/// OAuth profile and cached in the database (sealed) until shortly before they expire, so every instance
/// shares them and a restart does not ask again.
package struct OutboundOAuth {
    /// A token is renewed once less than this is left of its life.
    static let renewBefore: TimeInterval = 300

    package struct Token: Sendable {
        package let accessToken: String
        package let expiresAt: Date
        /// Whether this call asked the provider (false: from the cache).
        package let fresh: Bool
    }

    /// Why no token came, with a stable ``Code`` a caller can act on and a message an admin can read.
    package struct Failure: Error, Sendable, CustomStringConvertible {
        package enum Code: String, Sendable {
            /// The token endpoint did not answer (refused, timed out, TLS).
            case unreachable
            /// It answered without a token (an OAuth error such as AADSTS7000215, or not JSON).
            case refused
            /// No such profile, or its provider is inactive or incomplete.
            case notConfigured
            /// The calling app's scope may not read the Application Registry (its cross-scope privileges).
            case notAllowed
        }

        package let code: Code
        /// Names the host and what it said, never a secret.
        package let message: String
        /// The outbound HTTP log entry of the token request, when one was sent.
        package let logId: String?
        package var description: String { message }
    }

    let sql: any SQLDatabase
    let http: any OutboundHTTPClient
    let masterKey: MasterKey
    let now: @Sendable () -> Date
    let logger: Logger
    let correlationId: String?
    /// The application scope asking (the Microsoft 365 support app's); nil for the platform itself. A scoped
    /// caller reads the Application Registry only as its cross-scope privileges allow.
    var callerScope: String? = nil

    /// A valid access token for the OAuth profile `profileId`.
    func token(profileId: String, forceRefresh: Bool = false) async throws -> Token {
        // Before the cache too: a cached token is still the registry's data.
        if let callerScope {
            do {
                for table in [DeskTables.oauthEntityProfile.name, DeskTables.oauthEntity.name] {
                    try await ScopePrivileges.require(
                        sourceScope: callerScope, table: table, operation: "read", sql: sql)
                }
            } catch let refusal as CrossScopeRefusal {
                throw Failure(code: .notAllowed, message: refusal.description, logId: nil)
            }
        }
        let cache = OutboundTokenCache(sql: sql, masterKey: masterKey)
        if !forceRefresh, let cached = try await cache.find(profileId),
            cached.expiresAt.timeIntervalSince(now()) > Self.renewBefore
        {
            return Token(accessToken: cached.token, expiresAt: cached.expiresAt, fresh: false)
        }
        let provider = try await self.provider(profileId: profileId)
        var fields = [
            ("grant_type", provider.grantType), ("client_id", provider.clientId),
            ("client_secret", provider.clientSecret),
        ]
        if let resource = provider.resource { fields.append(("resource", resource)) }
        if let scope = provider.scope { fields.append(("scope", scope)) }
        let object = try await post(fields, to: provider.tokenURL, secrets: [provider.clientSecret])
        guard let accessToken = object["access_token"] as? String else {
            throw Failure(
                code: .refused,
                message: "The token endpoint \(Self.host(provider.tokenURL)) answered 200 without an access token",
                logId: nil)
        }
        // Entra's v1 endpoint sends numbers as strings.
        let lifetime =
            (object["expires_in"] as? NSNumber)?.doubleValue ?? (object["expires_in"] as? String).flatMap(Double.init)
            ?? 3600
        let expiresAt = now().addingTimeInterval(lifetime)
        try await cache.store(profileId, token: accessToken, expiresAt: expiresAt)
        return Token(accessToken: accessToken, expiresAt: expiresAt, fresh: true)
    }

    /// Redeems an authorization code (OpenID Connect sign-in) with the client credentials of the provider of
    /// `profileId`, at the authority's v2 token endpoint next to the provider's token URL; the token response.
    func redeem(profileId: String, code: String, redirectURI: String, verifier: String) async throws
        -> [String: any Sendable]
    {
        let provider = try await self.provider(profileId: profileId)
        guard let tokenURL = OutboundOAuthURLs.v2Token(provider.tokenURL) else {
            throw Failure(
                code: .notConfigured,
                message:
                    "The provider's token URL \(provider.tokenURL) is not an Entra token URL ({authority}/{tenant}/"
                    + "oauth2/token).", logId: nil)
        }
        let fields = [
            ("grant_type", "authorization_code"), ("client_id", provider.clientId),
            ("client_secret", provider.clientSecret), ("code", code), ("redirect_uri", redirectURI),
            ("code_verifier", verifier), ("scope", "openid profile email"),
        ]
        let object = try await post(fields, to: tokenURL, secrets: [provider.clientSecret, code, verifier])
        return object.compactMapValues { $0 as? String }
    }

    /// POSTs a token request's form to `url` through the logged client (`secrets` redacted); the answer's JSON
    /// object, or a ``Failure`` naming the host, the status and the endpoint's error.
    private func post(_ fields: [(String, String)], to url: String, secrets: [String]) async throws -> [String: Any] {
        var request = HTTPClientRequest(url: url)
        request.method = .POST
        request.headers.add(name: "Content-Type", value: "application/x-www-form-urlencoded")
        request.headers.add(name: "Accept", value: "application/json")
        let exchange: OutboundExchange
        do {
            exchange = try await http.send(
                request, body: ByteBuffer(string: FormBody.encode(fields)), source: "oauth",
                correlationId: correlationId, secrets: secrets, sql: sql, now: now, logger: logger)
        } catch let failure as OutboundFailure {
            throw Failure(code: .unreachable, message: "Token request failed. \(failure)", logId: failure.logId)
        }
        let object = (try? JSONSerialization.jsonObject(with: Data(exchange.body.readableBytesView))) as? [String: Any]
        guard exchange.status == .ok, let object else {
            let error = (object?["error"] as? String).map { code in
                let description =
                    (object?["error_description"] as? String)?.split(separator: "\r\n").first
                    ?? (object?["error_description"] as? String)?.split(separator: "\n").first
                return description.map { "\(code): \($0)" } ?? code
            }
            throw Failure(
                code: .refused,
                message: "The token endpoint \(Self.host(url)) answered \(exchange.status.code)"
                    + (error.map { " (\(Redaction.text($0, secrets: secrets)))" } ?? ""),
                logId: exchange.logId)
        }
        return object
    }

    private static func host(_ url: String) -> String { URL(string: url)?.host ?? url }

    struct Provider {
        let tokenURL: String
        let clientId: String
        let clientSecret: String
        let grantType: String
        let resource: String?
        let scope: String?
    }

    private func provider(profileId: String) async throws -> Provider {
        guard
            let row = try await sql.raw(
                """
                SELECT e.token_url AS token_url, e.client_id AS client_id, e.client_secret AS client_secret,
                       e.resource AS resource, e.scope AS scope, e.active AS active, e.type AS type,
                       p.grant_type AS grant_type, e.default_grant_type AS default_grant_type
                FROM \(ident: DeskTables.oauthEntityProfile.databaseTable) p
                JOIN \(ident: DeskTables.oauthEntity.databaseTable) e ON e.sys_id = p.oauth_entity
                WHERE p.sys_id = \(bind: profileId)
                """
            ).first()
        else {
            throw Failure(code: .notConfigured, message: "The OAuth profile \(profileId) does not exist.", logId: nil)
        }
        guard try row.decode(column: "type", as: String?.self) == "oauth_provider",
            try row.decode(column: "active", as: Bool?.self) ?? false
        else {
            throw Failure(
                code: .notConfigured, message: "The OAuth profile's provider is not an active third-party provider.",
                logId: nil)
        }
        guard let tokenURL = try row.decode(column: "token_url", as: String?.self), !tokenURL.isEmpty,
            let clientId = try row.decode(column: "client_id", as: String?.self),
            let sealed = try row.decode(column: "client_secret", as: String?.self)
        else {
            throw Failure(
                code: .notConfigured, message: "The OAuth provider has no token URL, client ID or client secret.",
                logId: nil)
        }
        func optional(_ column: String) throws -> String? {
            try row.decode(column: column, as: String?.self).flatMap { $0.isEmpty ? nil : $0 }
        }
        return Provider(
            tokenURL: tokenURL, clientId: clientId, clientSecret: try masterKey.open(sealed),
            grantType: try optional("grant_type") ?? optional("default_grant_type") ?? "client_credentials",
            resource: try optional("resource"), scope: try optional("scope"))
    }

}

/// Addresses derived from an Entra token URL.
package enum OutboundOAuthURLs {
    /// `{authority}/{tenant}/oauth2/v2.0/token` from a v1 or v2 token URL of the same tenant.
    package static func v2Token(_ tokenURL: String) -> String? {
        for suffix in ["/oauth2/v2.0/token", "/oauth2/token"] where tokenURL.hasSuffix(suffix) {
            return String(tokenURL.dropLast(suffix.count)) + "/oauth2/v2.0/token"
        }
        return nil
    }
}

/// The outbound tokens, one per OAuth profile, sealed with the master key.
struct OutboundTokenCache {
    static let schema = "desk_outbound_tokens"

    let sql: any SQLDatabase
    let masterKey: MasterKey

    func find(_ profileId: String) async throws -> (token: String, expiresAt: Date)? {
        guard
            let row = try await sql.select().columns("sealed_token", "expires_at").from(Self.schema)
                .where("profile_id", .equal, profileId).first(),
            let token = try? masterKey.open(try row.decode(column: "sealed_token", as: String.self))
        else { return nil }
        return (token, Date(timeIntervalSince1970: try row.decode(column: "expires_at", as: Double.self)))
    }

    func store(_ profileId: String, token: String, expiresAt: Date) async throws {
        try await sql.insert(into: Self.schema)
            .columns("profile_id", "sealed_token", "expires_at")
            .values(SQLBind(profileId), SQLBind(try masterKey.seal(token)), SQLBind(expiresAt.timeIntervalSince1970))
            .onConflict(with: ["profile_id"]) {
                $0.set(excludedValueOf: "sealed_token").set(excludedValueOf: "expires_at")
            }
            .run()
    }

    /// Forgets the profile's token (its provider's settings changed).
    func remove(profileId: String) async throws {
        try await sql.delete(from: Self.schema).where("profile_id", .equal, profileId).run()
    }
}

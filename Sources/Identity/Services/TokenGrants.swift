import Crypto
import Fluent
import Foundation
import SQLKit
import ServerSupport
import WireModels

/// The grants the token endpoints accept: client credentials, authorization code (with PKCE) and refresh token.
struct TokenGrants {
    let context: IdentityContext
    /// Made on first use: most client-credentials requests are answered from the directory cache alone.
    let databaseProvider: () -> any Database
    let now: Date

    private var database: any Database { databaseProvider() }

    func issue(form: TokenForm, tenantIdentifier: String, endpoint: EndpointVersion) async throws -> IssuedTokens {
        let grantType = try form.grantType.required("grant_type")
        guard ["client_credentials", "authorization_code", "refresh_token"].contains(grantType) else {
            throw IdentityError.unsupportedGrantType(grantType)
        }
        let tenant = try await context.directoryCache.directory(tenantIdentifier, on: databaseProvider)
        let clientId = try form.clientId.required("client_id")
        if endpoint == .v2, form.resource != nil, grantType == "client_credentials" {
            throw IdentityError.resourceParameterNotSupported
        }
        let authenticator = ClientAuthenticator(directory: tenant, now: now)
        let client = try authenticator.app(clientId: clientId, tenantIdentifier: tenantIdentifier)
        let issuer = TokenIssuer(context: context, databaseProvider: databaseProvider, now: now)

        switch grantType {
        case "client_credentials":
            let requested =
                switch endpoint {
                case .v1: try form.resource.required("resource")
                case .v2: try ScopeRequest.clientCredentialsResource(try form.scope.required("scope"))
                }
            try authenticator.authenticate(client, secret: form.clientSecret, confidentialOnly: true)
            let resource = try tenant.resource(named: requested)
            return try await issuer.appOnlyToken(
                tenant: tenant, client: client, resource: resource, requestedAs: requested)

        case "authorization_code":
            let code = try form.code.required("code")
            try authenticator.authenticate(client, secret: form.clientSecret, confidentialOnly: false)
            return try await redeem(
                code: code, form: form, tenant: tenant, client: client, issuer: issuer, endpoint: endpoint)

        default:
            let token = try form.refreshToken.required("refresh_token")
            try authenticator.authenticate(client, secret: form.clientSecret, confidentialOnly: false)
            return try await refresh(
                token: token, form: form, tenant: tenant, client: client, issuer: issuer, endpoint: endpoint)
        }
    }

    private func redeem(
        code: String, form: TokenForm, tenant: TenantDirectory, client: TenantDirectory.App, issuer: TokenIssuer,
        endpoint: EndpointVersion
    ) async throws -> IssuedTokens {
        guard
            let grant = try await AuthorizationCode.query(on: database)
                .filter(\.$codeDigest == RandomToken.digest(code))
                .first(),
            grant.$app.id == client.id, grant.expiresAt > now
        else { throw IdentityError.invalidGrant }
        guard grant.redeemedAt == nil else { throw IdentityError.codeAlreadyRedeemed }
        // RFC 6749 §4.1.3: the redirect URI the code was sent to, again; every code here was sent to one.
        let redirectUri = try form.redirectUri.required("redirect_uri")
        guard redirectUri == grant.redirectURI else {
            throw IdentityError.redirectURIMismatch(redirectUri, appId: client.appId)
        }
        if let challenge = grant.codeChallenge {
            guard let verifier = form.codeVerifier,
                PKCE.matches(verifier: verifier, challenge: challenge, method: grant.codeChallengeMethod)
            else { throw IdentityError.pkceMismatch }
        } else if client.isPublicClient {
            throw IdentityError.pkceRequired
        }
        // Claim the code atomically, so two concurrent redemptions cannot both succeed.
        guard try await markUsed(AuthorizationCode.schema, column: "redeemed_at", id: grant.requireID()) else {
            throw IdentityError.codeAlreadyRedeemed
        }
        guard let user = try await DirectoryUser.find(grant.$user.id, on: database), user.accountEnabled else {
            throw IdentityError.invalidGrant
        }
        return try await userTokens(
            scope: grant.scope, v1Resource: grant.resource, nonce: grant.nonce, tenant: tenant, client: client,
            user: user, issuer: issuer, endpoint: endpoint)
    }

    private func refresh(
        token: String, form: TokenForm, tenant: TenantDirectory, client: TenantDirectory.App, issuer: TokenIssuer,
        endpoint: EndpointVersion
    ) async throws -> IssuedTokens {
        guard
            let stored = try await RefreshToken.query(on: database)
                .filter(\.$tokenDigest == RandomToken.digest(token))
                .first(),
            stored.$app.id == client.id, stored.revokedAt == nil, stored.expiresAt > now,
            try await markUsed(RefreshToken.schema, column: "revoked_at", id: stored.requireID())
        else { throw IdentityError.invalidGrant }
        guard let user = try await DirectoryUser.find(stored.$user.id, on: database), user.accountEnabled else {
            throw IdentityError.invalidGrant
        }
        // Refresh tokens are multi-resource in Entra: the request may name another resource.
        let scope = form.scope ?? stored.scope
        let v1Resource = endpoint == .v1 ? (form.resource ?? stored.resource) : nil
        return try await userTokens(
            scope: scope.contains("offline_access") ? scope : scope + " offline_access", v1Resource: v1Resource,
            nonce: nil, tenant: tenant, client: client, user: user, issuer: issuer, endpoint: endpoint)
    }

    private func userTokens(
        scope: String, v1Resource: String?, nonce: String?, tenant: TenantDirectory, client: TenantDirectory.App,
        user: DirectoryUser, issuer: TokenIssuer, endpoint: EndpointVersion
    ) async throws -> IssuedTokens {
        let request = try ScopeRequest.parse(scope)
        // Only consented permissions reach the token; anything else asked is AADSTS65001, also on refresh.
        let asked = try DelegatedConsent.resolve(request, v1Resource: v1Resource, tenant: tenant, client: client)
        let permissions = try await DelegatedConsent(database: database).permissions(
            for: asked, client: client, userID: user.requireID())
        let openID = endpoint == .v1 ? Array(Set(request.openID).union(["openid"])).sorted() : request.openID
        var issued = try await issuer.userTokens(
            tenant: tenant, client: client, user: user, resource: asked.resource, requestedAs: asked.requestedAs,
            permissions: permissions, openIDScopes: openID, nonce: nonce, endpoint: endpoint)
        if request.wantsRefreshToken || endpoint == .v1 {
            let value = RandomToken.urlSafe(byteCount: 48)
            try await RefreshToken(
                tokenDigest: RandomToken.digest(value), appID: client.id, userID: user.requireID(),
                scope: scope, resource: v1Resource,
                expiresAt: now.addingTimeInterval(context.config.refreshTokenLifetime)
            ).create(on: database)
            issued.refreshToken = value
        }
        return issued
    }

    /// Sets `column` to now where it is still empty; false when another request got there first.
    private func markUsed(_ table: String, column: String, id: UUID) async throws -> Bool {
        guard let sql = database as? any SQLDatabase else { throw IdentityError.malformedRequest }
        let rows = try await sql.update(table)
            .set(SQLIdentifier(column), to: SQLBind(now))
            .where(SQLIdentifier("id"), .equal, SQLBind(id))
            .where(SQLIdentifier(column), .is, SQLLiteral.null)
            .returning(SQLIdentifier("id"))
            .all()
        return !rows.isEmpty
    }
}

/// RFC 7636 code challenge checks.
enum PKCE {
    static func matches(verifier: String, challenge: String, method: String?) -> Bool {
        switch method?.uppercased() ?? "S256" {
        case "S256":
            return Data(SHA256.hash(data: Data(verifier.utf8))).base64URLEncodedString() == challenge
        case "PLAIN":
            return verifier == challenge
        default:
            return false
        }
    }
}

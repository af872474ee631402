import Crypto
import Fluent
import Foundation
import ServerSupport
import WireModels

/// What a successful token request produced, before it is shaped as a v1 or v2 response.
struct IssuedTokens {
    var accessToken: String
    var issuedAt: Date
    var expiresAt: Date
    /// The resource as the client named it (v1 `resource`).
    var resource: String
    /// Granted scope (`{resource}/.default`, or the delegated permissions and OpenID scopes).
    var scope: String?
    var refreshToken: String?
    var idToken: String?
}

/// Which token endpoint or authorize endpoint a request came through.
enum EndpointVersion: Sendable {
    case v1
    case v2
}

/// Builds and signs Identity's tokens with Entra's claims for each token version.
struct TokenIssuer {
    let context: IdentityContext
    let databaseProvider: () -> any Database
    let now: Date

    private var database: any Database { databaseProvider() }

    /// An app-only access token for `resource`, carrying the app roles the client was granted.
    func appOnlyToken(
        tenant: TenantDirectory, client: TenantDirectory.App, resource: TenantDirectory.App, requestedAs: String
    ) async throws -> IssuedTokens {
        let roles = tenant.grantedRoles(client: client, resource: resource)
        if resource.appRoleAssignmentRequired && roles.isEmpty {
            throw IdentityError.roleAssignmentRequired(client: client.appId, resource: resource.appId)
        }
        var claims = baseClaims(tenant: tenant, resource: resource, requestedAs: requestedAs)
        let tid = tenant.tenantId
        let version = resource.accessTokenVersion
        if version == 2 {
            claims.azp = client.appId
            claims.azpacr = "1"
        } else {
            claims.appid = client.appId
            claims.appidacr = "1"
            claims.idp = context.issuer.v1Issuer(tenantId: tid)
        }
        claims.idtyp = "app"
        claims.oid = client.servicePrincipalId
        claims.sub = claims.oid
        claims.roles = roles.isEmpty ? nil : roles
        let token = try await sign(claims, version: version)
        return IssuedTokens(
            accessToken: token, issuedAt: now, expiresAt: expiry, resource: requestedAs,
            scope: "\(requestedAs)/.default")
    }

    /// A delegated access token (and ID and refresh tokens when asked for) for a signed-in user, carrying
    /// `permissions`: the consented ones ``DelegatedConsent`` allowed.
    func userTokens(
        tenant: TenantDirectory, client: TenantDirectory.App, user: DirectoryUser, resource: TenantDirectory.App,
        requestedAs: String,
        permissions: [String], openIDScopes: [String], nonce: String?, endpoint: EndpointVersion
    ) async throws -> IssuedTokens {
        let roleTemplateIds = try await user.$roleAssignments.query(on: database).all().map(\.roleTemplateId)
        let version = resource.accessTokenVersion
        var claims = baseClaims(tenant: tenant, resource: resource, requestedAs: requestedAs)
        claims.acr = "1"
        claims.amr = ["pwd"]
        if version == 2 {
            claims.azp = client.appId
            claims.azpacr = client.secrets.isEmpty ? "0" : "1"
            claims.preferredUsername = user.userPrincipalName
        } else {
            claims.appid = client.appId
            claims.appidacr = client.secrets.isEmpty ? "0" : "1"
            claims.uniqueName = user.userPrincipalName
            claims.upn = user.userPrincipalName
        }
        claims.name = user.displayName
        claims.oid = user.objectId
        claims.sub = pairwiseSubject(user: user, app: client)
        let scp = permissions
        claims.scp = scp.joined(separator: " ")
        claims.wids = roleTemplateIds.isEmpty ? nil : roleTemplateIds
        let accessToken = try await sign(claims, version: version)

        var issued = IssuedTokens(
            accessToken: accessToken, issuedAt: now, expiresAt: expiry, resource: requestedAs,
            scope: (openIDScopes + (scp.isEmpty ? [] : scp.map { qualified($0, resource: requestedAs) }))
                .joined(separator: " "))
        if openIDScopes.contains("openid") {
            issued.idToken = try await idToken(
                tenant: tenant, client: client, user: user, nonce: nonce, endpoint: endpoint)
        }
        return issued
    }

    private func idToken(
        tenant: TenantDirectory, client: TenantDirectory.App, user: DirectoryUser, nonce: String?,
        endpoint: EndpointVersion
    ) async throws -> String {
        let tid = tenant.tenantId
        var claims = TokenClaims()
        claims.aud = client.appId
        claims.iat = Int(now.timeIntervalSince1970)
        claims.nbf = claims.iat
        claims.exp = Int(expiry.timeIntervalSince1970)
        claims.name = user.displayName
        claims.nonce = nonce
        claims.oid = user.objectId
        claims.sub = pairwiseSubject(user: user, app: client)
        claims.tid = tid
        claims.uti = RandomToken.urlSafe(byteCount: 16)
        switch endpoint {
        case .v1:
            claims.iss = context.issuer.v1Issuer(tenantId: tid)
            claims.amr = ["pwd"]
            claims.uniqueName = user.userPrincipalName
            claims.upn = user.userPrincipalName
            claims.ver = "1.0"
            return try await sign(claims, version: 1)
        case .v2:
            claims.iss = context.issuer.v2Issuer(tenantId: tid)
            claims.preferredUsername = user.userPrincipalName
            claims.email = user.mail
            claims.ver = "2.0"
            return try await sign(claims, version: 2)
        }
    }

    private var expiry: Date { now.addingTimeInterval(context.config.accessTokenLifetime) }

    private func baseClaims(tenant: TenantDirectory, resource: TenantDirectory.App, requestedAs: String) -> TokenClaims
    {
        let tid = tenant.tenantId
        var claims = TokenClaims()
        if resource.accessTokenVersion == 2 {
            claims.aud = resource.appId
            claims.iss = context.issuer.v2Issuer(tenantId: tid)
            claims.ver = "2.0"
        } else {
            claims.aud = requestedAs
            claims.iss = context.issuer.v1Issuer(tenantId: tid)
            claims.ver = "1.0"
        }
        claims.iat = Int(now.timeIntervalSince1970)
        claims.nbf = claims.iat
        claims.exp = Int(expiry.timeIntervalSince1970)
        claims.tid = tid
        claims.uti = RandomToken.urlSafe(byteCount: 16)
        return claims
    }

    private func sign(_ claims: TokenClaims, version: Int) async throws -> String {
        let key: SigningKeyRing.Key
        if let fresh = context.keyRing.freshActiveKey() {
            key = fresh
        } else {
            key = try await context.keyRing.activeKey(on: database)
        }
        return try JWTCoder.sign(claims, with: key, includeX5t: version == 1)
    }

    /// Entra's `sub` is pairwise: stable for one user and app, different across apps.
    private func pairwiseSubject(user: DirectoryUser, app: TenantDirectory.App) -> String {
        Data(SHA256.hash(data: Data("\(user.objectId)|\(app.appId)".utf8))).base64URLEncodedString()
    }

    private func qualified(_ permission: String, resource: String) -> String {
        resource.lowercased().trimmingSuffix("/") == MicrosoftGraphResource.identifierURI
            ? permission : "\(resource.trimmingSuffix("/"))/\(permission)"
    }
}

import Foundation
import ServerSupport
import Vapor
import WireModels

/// Verifies a bearer token Identity issued for Microsoft Graph and checks its permission.
struct GraphAccessCheck {
    let request: Request

    /// The claims of a valid, unexpired token Identity issued for Graph.
    func validClaims() async throws -> TokenClaims {
        guard let token = request.headers.bearerAuthorization?.token else { throw GraphError.missingToken }
        let context = request.identity
        let claims: TokenClaims
        do {
            claims = try await JWTCoder.verify(token) { kid in
                try await context.keyRing.verificationKey(kid: kid, on: request.db)
            }
        } catch {
            throw GraphError.invalidToken
        }
        let now = Int(context.config.now().timeIntervalSince1970)
        let skew = 300
        guard let exp = claims.exp, InputNumber.saturatingSum(exp, skew) > now,
            InputNumber.saturatingSum(claims.nbf ?? 0, -skew) <= now, let tid = claims.tid,
            let aud = claims.aud?.lowercased().trimmingSuffix("/"),
            aud == MicrosoftGraphResource.appId || aud == MicrosoftGraphResource.identifierURI,
            claims.iss == context.issuer.v1Issuer(tenantId: tid) || claims.iss == context.issuer.v2Issuer(tenantId: tid)
        else { throw GraphError.invalidToken }
        return claims
    }

    /// Valid claims that grant `role`, as an app role or a delegated scope.
    func requireRole(_ role: String) async throws -> TokenClaims {
        let claims = try await validClaims()
        let scopes = claims.scp?.split(separator: " ").map(String.init) ?? []
        guard (claims.roles ?? []).contains(role) || scopes.contains(role) else {
            throw GraphError.insufficientPrivileges
        }
        return claims
    }
}

import Foundation
import ServerSupport
import Vapor
import WireModels

/// Who called, from a verified bearer token.
struct Caller: Sendable {
    let tenant: TenantRecord
    /// `appid` (v1) or `azp` (v2): the app registration that asked for the token.
    let appId: String
    /// Application roles (app-only tokens).
    let roles: [String]
    /// Delegated permissions (tokens on behalf of a signed-in user).
    let scopes: [String]
    /// Directory role template IDs of the signed-in user.
    let directoryRoles: [String]
    /// The signed-in user's name, for delegated tokens.
    let userName: String?

    var isAppOnly: Bool { scopes.isEmpty }
    var tenantId: String { tenant.tenantId }

    /// The application role an app-only endpoint needs.
    func require(role: String) throws {
        guard isAppOnly, roles.contains(role) else {
            throw ConnectorError(
                .forbidden, .missingRole,
                "The token lacks the application role \(role) that this operation needs. Grant it to the app "
                    + "\(appId) for the Connector's resource in tenant \(tenantId).")
        }
    }

    /// The delegated permission a signed-in administrator's endpoint needs.
    func require(scope: String) throws {
        guard scopes.contains(where: { $0.caseInsensitiveCompare(scope) == .orderedSame }) else {
            throw ConnectorError(
                .forbidden, .missingRole,
                "The token is not a delegated token with the \(scope) permission this operation needs.")
        }
    }

    /// Whether the signed-in user may change the organization profile: Global Administrator or Service Support
    /// Administrator, as the Microsoft 365 admin center requires.
    var isProfileAdministrator: Bool {
        directoryRoles.contains { id in
            [DirectoryRoleTemplate.globalAdministrator, .serviceSupportAdministrator].contains {
                $0.templateId.caseInsensitiveCompare(id) == .orderedSame
            }
        }
    }
}

/// Verifies bearer tokens from the configured authority: a tenant the Connector serves, the provider's
/// signature, issuer and lifetime (ServerSupport's ``OIDCTokenCheck``), and an audience that is this Connector.
struct CallerVerifier {
    let config: ConnectorConfig
    let cache: JWKSCache
    let http: any OutboundHTTPClient
    let tenants: TenantStore
    let logger: Logger
    let correlationId: String?

    static let invalidToken = ConnectorError(
        .unauthorized, .invalidToken,
        "Access token validation failure. Invalid audience, issuer, signature or lifetime.")

    func verify(_ token: String?) async throws -> Caller {
        guard let token, !token.isEmpty else {
            throw ConnectorError(.unauthorized, .invalidToken, "Access token is empty.")
        }
        do {
            let jwt = try RS256JWT.parse(token)
            let unverified = try jwt.claimsObject()
            guard let tid = (unverified["tid"] as? String).flatMap(UUID.init(uuidString:))?.uuidString.lowercased()
            else { throw JWTRefusal(reason: "the token has no tenant ID (tid)") }
            guard let tenant = try await tenants.find(tid) else {
                throw ConnectorError(
                    .unauthorized, .tenantNotRegistered,
                    "Tenant \(tid) is not served by this Connector. Its operator registers it with "
                        + "`m365-support connector resource --tenant \(tid)`.")
            }
            let version = unverified["ver"] as? String == "2.0" ? "v2.0/" : ""
            let metadataURL = "\(config.authority)/\(tid)/\(version).well-known/openid-configuration"
            let source = OIDCKeySource(
                http: http, log: ProcessOutboundLog(), logger: logger, correlationId: correlationId,
                now: config.now)
            let claims = try await OIDCTokenCheck(cache: cache, source: source).verify(
                jwt, metadataURL: metadataURL, lifespan: config.metadataLifespan, now: config.now())
            let audiences = OIDCTokenCheck.audiences(claims)
            let accepted = [config.resource, tenant.resourceAppId].compactMap { $0 }
            guard audiences.contains(where: { accepted.contains($0) }) else {
                throw JWTRefusal(
                    reason:
                        "audience \(audiences.prefix(3)) is not this Connector (\(accepted.joined(separator: ", ")))")
            }
            guard let appId = (claims["appid"] as? String) ?? (claims["azp"] as? String) else {
                throw JWTRefusal(reason: "the token names no client app (appid or azp)")
            }
            return Caller(
                tenant: tenant, appId: appId.lowercased(), roles: OIDCTokenCheck.list(claims, "roles"),
                scopes: OIDCTokenCheck.list(claims, "scp"), directoryRoles: OIDCTokenCheck.list(claims, "wids"),
                userName: (claims["upn"] as? String) ?? (claims["preferred_username"] as? String))
        } catch let refusal as JWTRefusal {
            logger.notice(
                "Bearer token refused",
                metadata: ["reason": "\(refusal.reason)", "correlation_id": "\(correlationId ?? "")"])
            throw Self.invalidToken
        } catch let error as ConnectorError {
            throw error
        } catch {
            // The provider could not be read: the caller's token may be fine, so this is not a 401.
            logger.error(
                "Token provider unreachable",
                metadata: ["error": "\(String(reflecting: error))", "correlation_id": "\(correlationId ?? "")"])
            throw Abort(
                .serviceUnavailable,
                reason: "The Connector could not read its identity provider's signing keys (\(config.authority)).")
        }
    }
}

/// Verifies the bearer token of every request below it and keeps the caller on the request.
struct BearerAuthMiddleware: AsyncMiddleware {
    func respond(to request: Request, chainingTo next: any AsyncResponder) async throws -> Response {
        let context = request.application.connector
        let verifier = CallerVerifier(
            config: context.config, cache: context.keyCache, http: context.http,
            tenants: try context.tenants(request.db),
            logger: request.logger, correlationId: request.clientRequestId ?? request.id)
        request.storage[CallerKey.self] = try await verifier.verify(request.headers.bearerAuthorization?.token)
        return try await next.respond(to: request)
    }
}

private struct CallerKey: StorageKey {
    typealias Value = Caller
}

extension Request {
    /// The verified caller; only under ``BearerAuthMiddleware``.
    var caller: Caller {
        get throws {
            guard let caller = storage[CallerKey.self] else { throw CallerVerifier.invalidToken }
            return caller
        }
    }
}

import Foundation
import SQLKit
import ServerSupport
import Vapor
import WireModels

/// ServiceNow's `POST /oauth_token.do`: the password grant and the refresh_token grant for inbound clients.
struct OAuthTokenController: RouteCollection {
    func boot(routes: any RoutesBuilder) throws {
        routes.post(DeskPath.oauthToken.pathComponents, use: token)
    }

    /// Whether a request is for this endpoint, whose failures are answered in OAuth's shape.
    static func handles(_ request: Request) -> Bool {
        request.url.path == DeskPath.oauthToken
    }

    /// OAuth's error body (RFC 6749 §5.2) for a failure that happened before or outside the grant checks.
    static func errorResponse(for error: DeskError) -> Response {
        let (code, status): (String, HTTPResponseStatus) =
            switch error.kind {
            case .tooManyRequests: ("temporarily_unavailable", .tooManyRequests)
            case .payloadTooLarge: ("invalid_request", .payloadTooLarge)
            case .internalError: ("server_error", .internalServerError)
            case .notAuthenticated, .notAuthorized: ("access_denied", .unauthorized)
            case .notFound, .badRequest, .conflict: ("invalid_request", error.status)
            }
        let description = error.detail.map { "\(error.message): \($0)" } ?? error.message
        let response = Response.json(["error": code, "error_description": description], status: status)
        response.headers.replaceOrAdd(name: .cacheControl, value: "no-store")
        return response
    }

    func token(_ request: Request) async throws -> Response {
        guard let sql = request.db as? any SQLDatabase else { throw DeskError.internalError }
        let fields: [String: String]
        if let body = request.body.data {
            guard let parsed = FormBody.parse(body) else {
                throw DeskError.badRequest(
                    "Invalid request",
                    detail: "the body must be application/x-www-form-urlencoded with valid %-escapes and UTF-8")
            }
            fields = parsed
        } else {
            fields = [:]
        }
        // pysnow sends the client credentials in HTTP Basic, other clients in the form.
        let basic = request.headers.basicAuthorization
        guard let clientId = basic?.username ?? fields["client_id"],
            let clientSecret = basic?.password ?? fields["client_secret"],
            let entity = try await InboundOAuthEntity.authenticate(
                clientId: clientId, secret: clientSecret, sql: sql, masterKey: request.desk.config.masterKey)
        else {
            return try await denied(
                request, reason: "unknown or inactive client ID, or wrong client secret",
                clientId: basic?.username ?? fields["client_id"])
        }

        let now = request.desk.config.now()
        let tokens = OAuthTokenStore(sql: sql, now: now)
        let userSysId: String
        let refreshToken: String
        switch fields["grant_type"] {
        case "password":
            let userName = fields["username"] ?? ""
            let check = try await request.desk.authenticator.checkPassword(
                userName: userName, password: fields["password"] ?? "", request: request)
            switch check {
            case .accepted(let principal):
                userSysId = principal.sysId
            case .refused:
                return try await denied(
                    request, reason: "wrong user name or password, or inactive user '\(userName.prefix(256))'",
                    clientId: clientId)
            case .throttled(let wait):
                throw DeskError.tooManyAttempts(retryAfter: wait)
            }
            refreshToken = try await tokens.issue(
                .refresh, entity: entity.sysId, user: userSysId, lifespan: entity.refreshTokenLifespan)
        case "refresh_token":
            guard let presented = fields["refresh_token"],
                let grant = try await tokens.find(presented, kind: .refresh), grant.entitySysId == entity.sysId,
                try await DeskAuthenticator.isActiveUser(grant.userSysId, sql: sql)
            else {
                return try await denied(
                    request, reason: "unknown, expired or revoked refresh token", clientId: clientId)
            }
            userSysId = grant.userSysId
            // Within its life the current refresh token is returned again, as ServiceNow does.
            refreshToken = presented
        default:
            return try await denied(
                request, reason: "unsupported grant type '\(fields["grant_type"] ?? "")'", clientId: clientId)
        }
        let accessToken = try await tokens.issue(
            .access, entity: entity.sysId, user: userSysId, lifespan: entity.accessTokenLifespan)
        request.logger.info(
            "OAuth token issued", metadata: ["client.id": "\(clientId)", "grant.type": "\(fields["grant_type"] ?? "")"])
        let body: [String: Any] = [
            "access_token": accessToken, "refresh_token": refreshToken, "scope": "useraccount",
            "token_type": "Bearer", "expires_in": entity.accessTokenLifespan,
        ]
        let response = Response(status: .ok, body: .init(data: try JSONSerialization.data(withJSONObject: body)))
        response.headers.contentType = .json
        response.headers.replaceOrAdd(name: .cacheControl, value: "no-store")
        return response
    }

    /// ServiceNow answers every refusal alike, on purpose: 401 `access_denied`; the reason goes to the system
    /// log, where an admin looks when the inbound path of the integration fails.
    private func denied(_ request: Request, reason: String, clientId: String?) async throws -> Response {
        try await request.systemLog().writeRefusal(
            source: "oauth", "OAuth token request refused for client ID '\((clientId ?? "").prefix(256))': \(reason)",
            address: DeskAuthenticator.clientAddress(request), correlationId: request.correlationId)
        return Response.json(["error_description": "access_denied", "error": "server_error"], status: .unauthorized)
    }
}

import Fluent
import Foundation
import Vapor
import WireModels

/// `POST /{tenant}/oauth2/token` (v1) and `POST /{tenant}/oauth2/v2.0/token` (v2).
struct TokenController: RouteCollection {
    func boot(routes: any RoutesBuilder) throws {
        let v1 = routes.grouped(":tenant", "oauth2", "token")
        let v2 = routes.grouped(":tenant", "oauth2", "v2.0", "token")
        v1.post(use: tokenV1)
        v2.post(use: tokenV2)
        for method in [HTTPMethod.GET, .PUT, .PATCH, .DELETE] {
            v1.on(method, use: wrongMethod)
            v2.on(method, use: wrongMethod)
        }
    }

    func tokenV1(_ request: Request) async throws -> Response {
        let issued = try await issue(request, endpoint: .v1)
        let body = TokenResponseV1(
            expiresIn: String(Int(issued.expiresAt.timeIntervalSince(issued.issuedAt))),
            extExpiresIn: String(Int(issued.expiresAt.timeIntervalSince(issued.issuedAt))),
            expiresOn: String(Int(issued.expiresAt.timeIntervalSince1970)),
            notBefore: String(Int(issued.issuedAt.timeIntervalSince1970)),
            resource: issued.resource, accessToken: issued.accessToken,
            scope: issued.refreshToken == nil ? nil : issued.scope, refreshToken: issued.refreshToken,
            idToken: issued.idToken)
        return tokenResponse(body.jsonBytes())
    }

    func tokenV2(_ request: Request) async throws -> Response {
        let issued = try await issue(request, endpoint: .v2)
        let lifetime = Int(issued.expiresAt.timeIntervalSince(issued.issuedAt))
        let body = TokenResponseV2(
            expiresIn: lifetime, extExpiresIn: lifetime, accessToken: issued.accessToken,
            scope: issued.refreshToken == nil && issued.idToken == nil ? nil : issued.scope,
            refreshToken: issued.refreshToken, idToken: issued.idToken)
        return tokenResponse(body.jsonBytes())
    }

    func wrongMethod(_ request: Request) async throws -> Response {
        throw IdentityError.methodNotAllowed(request.method.rawValue)
    }

    private func issue(_ request: Request, endpoint: EndpointVersion) async throws -> IssuedTokens {
        let form = try TokenForm.decode(from: request)
        let tenant = try request.parameters.require("tenant")
        let context = request.identity
        let grants = TokenGrants(context: context, databaseProvider: { request.db }, now: context.config.now())
        let issued = try await grants.issue(form: form, tenantIdentifier: tenant, endpoint: endpoint)
        request.logger.info(
            "Token issued",
            metadata: [
                "tenant": "\(tenant)", "client.id": "\(form.clientId ?? "")",
                "grant.type": "\(form.grantType ?? "")", "resource": "\(issued.resource)",
            ])
        return issued
    }

    private func tokenResponse(_ json: [UInt8]) -> Response {
        let response = Response(status: .ok)
        response.headers.contentType = .json
        response.headers.replaceOrAdd(name: .cacheControl, value: "no-store, no-cache")
        response.headers.replaceOrAdd(name: .pragma, value: "no-cache")
        response.body = .init(buffer: ByteBuffer(bytes: json))
        return response
    }
}

import Foundation
import Vapor
import WireModels

/// The OIDC endpoints discovery advertises beside sign-in: `userinfo` and `logout`.
struct SessionController: RouteCollection {
    func boot(routes: any RoutesBuilder) throws {
        routes.get(":tenant", "openid", "userinfo", use: userInfo)
        routes.post(":tenant", "openid", "userinfo", use: userInfo)
        routes.get(":tenant", "oauth2", "logout", use: logout)
        routes.get(":tenant", "oauth2", "v2.0", "logout", use: logout)
    }

    /// Claims about the signed-in user of a delegated Graph token; `sub` matches the ID token's.
    func userInfo(_ request: Request) async throws -> Response {
        let claims: TokenClaims
        do {
            claims = try await GraphAccessCheck(request: request).validClaims()
        } catch {
            return unauthorized("invalid_token")
        }
        guard claims.scp != nil, let oid = claims.oid.flatMap(UUID.init(uuidString:)),
            let user = try await DirectoryUser.find(oid, on: request.db), user.accountEnabled
        else { return unauthorized("insufficient_scope") }
        var info = CompactJSONObject()
        info.add("sub", claims.sub)
        info.add("oid", user.objectId)
        info.add("tid", claims.tid)
        info.add("name", user.displayName)
        info.add("preferred_username", user.userPrincipalName)
        info.add("email", user.mail)
        let response = Response(status: .ok, body: .init(buffer: ByteBuffer(bytes: info.finish())))
        response.headers.contentType = .json
        return response
    }

    /// There is no single-sign-on session to end; goes back to `post_logout_redirect_uri` when it is a
    /// redirect URI registered in the tenant, else shows a signed-out page.
    func logout(_ request: Request) async throws -> Response {
        let tenant = try request.parameters.require("tenant")
        let target = request.query[String.self, at: "post_logout_redirect_uri"]
        // Only a registered redirect URI, and only one a browser reads as written (registrations made before
        // that rule are held to it here too).
        if let target, DirectoryAdmin.isRedirectURI(target),
            let directory = try? await request.identity.directoryCache.directory(tenant, on: { request.db }),
            directory.hasRedirectURI(target), var components = URLComponents(string: target)
        {
            if let state = request.query[String.self, at: "state"] {
                components.queryItems = (components.queryItems ?? []) + [URLQueryItem(name: "state", value: state)]
            }
            return request.redirect(to: components.string ?? target)
        }
        return try await request.view.render("signed-out").encodeResponse(for: request)
    }

    private func unauthorized(_ error: String) -> Response {
        let response = Response(status: .unauthorized)
        response.headers.replaceOrAdd(name: .wwwAuthenticate, value: "Bearer error=\"\(error)\"")
        return response
    }
}

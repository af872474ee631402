import Fluent
import Foundation
import SQLKit
import ServerSupport
import Vapor
import WireModels

/// `GET|POST /{tenant}/oauth2/v2.0/authorize` (and v1's `/oauth2/authorize`): the authorization-code
/// flow with PKCE (required of public clients), a server-rendered sign-in page and, where permissions lack
/// consent, a consent page (``AuthorizeFlow``).
struct AuthorizeController: RouteCollection {
    static let flowCookie = "m365_identity_flow"

    func boot(routes: any RoutesBuilder) throws {
        routes.get(":tenant", "oauth2", "v2.0", "authorize") { try await authorize($0, endpoint: .v2) }
        routes.post(":tenant", "oauth2", "v2.0", "authorize") { try await authorize($0, endpoint: .v2) }
        routes.get(":tenant", "oauth2", "authorize") { try await authorize($0, endpoint: .v1) }
        routes.post(":tenant", "oauth2", "authorize") { try await authorize($0, endpoint: .v1) }
    }

    func authorize(_ request: Request, endpoint: EndpointVersion) async throws -> Response {
        let isSubmit = request.method == .POST
        let parameters: AuthorizeParameters
        do {
            parameters =
                isSubmit
                ? try request.content.decode(AuthorizeParameters.self)
                : try request.query.decode(AuthorizeParameters.self)
        } catch {
            return try await errorPage(.malformedRequest, request)
        }
        let tenantIdentifier = try request.parameters.require("tenant")
        let tenant: TenantDirectory
        let app: TenantDirectory.App
        do {
            tenant = try await request.identity.directoryCache.directory(tenantIdentifier) { request.db }
            guard let clientId = parameters.clientId, !clientId.isEmpty else {
                throw IdentityError.missingParameter("client_id")
            }
            app = try ClientAuthenticator(directory: tenant, now: request.identity.config.now())
                .app(clientId: clientId, tenantIdentifier: tenantIdentifier)
        } catch let error as IdentityError {
            return try await errorPage(error, request)
        }
        // The redirect URI must match a registered one exactly; until it does, errors stay on this page.
        let redirectURI: String
        if let requested = parameters.redirectUri {
            guard app.redirectURIs.contains(requested) else {
                return try await errorPage(.redirectURIMismatch(requested, appId: app.appId), request)
            }
            redirectURI = requested
        } else if let only = app.redirectURIs.first, app.redirectURIs.count == 1 {
            redirectURI = only
        } else {
            return try await errorPage(.missingParameter("redirect_uri"), request)
        }
        let reply = AuthorizeReply(redirectURI: redirectURI, state: parameters.state, mode: parameters.responseMode)

        guard parameters.responseType == "code" else {
            return try await reply.send(
                error: .unsupportedResponseType(parameters.responseType ?? ""), request: request)
        }
        let scope: String
        switch endpoint {
        case .v2:
            guard let value = parameters.scope, !value.isEmpty else {
                return try await reply.send(error: .missingParameter("scope"), request: request)
            }
            scope = value
        case .v1:
            scope = parameters.scope ?? "openid"
        }
        let permissions: DelegatedConsent.Request
        do {
            permissions = try DelegatedConsent.resolve(
                ScopeRequest.parse(scope), v1Resource: endpoint == .v1 ? parameters.resource : nil, tenant: tenant,
                client: app)
        } catch let error as IdentityError {
            return try await reply.send(error: error, request: request)
        }
        if let method = parameters.codeChallengeMethod, !["S256", "plain"].contains(method) {
            return try await reply.send(error: .malformedRequest, request: request)
        }
        // A public client cannot prove at the token endpoint that it is the one that asked: PKCE does that.
        if app.isPublicClient, (parameters.codeChallenge ?? "").isEmpty {
            return try await reply.send(error: .pkceRequired, request: request)
        }
        let flow = AuthorizeFlow(
            request: request, endpoint: endpoint, tenant: tenant, app: app, parameters: parameters, scope: scope,
            permissions: permissions, redirectURI: redirectURI, reply: reply)

        let page = SignInPage(
            app: app, tenantName: tenant.primaryDomain, parameters: parameters,
            action: request.url.path)
        guard isSubmit else { return try await page.render(request, error: nil, login: parameters.loginHint) }

        guard let flowToken = parameters.flowToken, request.cookies[Self.flowCookie]?.string == flowToken else {
            return try await page.render(
                request, error: "Your sign-in session expired. Please sign in again.", login: parameters.login)
        }
        if let ticket = parameters.consentTicket {
            return try await flow.answerConsent(ticket: ticket, accepted: parameters.consentAction == "accept") {
                try await page.render(
                    request, error: "Your sign-in session expired. Please sign in again.", login: nil)
            }
        }
        let login = (parameters.login ?? "").lowercased()
        let password = parameters.passwd ?? ""
        guard let sql = request.db as? any SQLDatabase else { throw IdentityError.malformedRequest }
        let throttle = SignInThrottle(
            table: CreateSignInFailures.table, sql: sql, now: request.identity.config.now())
        let address = request.clientAddress(trustingForwardedFor: request.identity.config.trustsForwardedFor)
        // Counted per tenant: the same user name in two tenants is two accounts.
        let throttleName = "\(tenant.tenantId)/\(login)"
        if let wait = try await throttle.retryAfter(userName: throttleName, address: address) {
            request.logger.warning(
                "Sign-in refused: too many failed attempts",
                metadata: ["tenant": "\(tenant.tenantId)", "client.address": "\(address ?? "")"])
            // Entra's AADSTS50053 words.
            let response = try await page.render(
                request,
                error: "Your account is locked because you've tried to sign in too many times with an incorrect "
                    + "user ID or password. Try again in \(SignInThrottle.minutesText(wait)).",
                login: parameters.login, status: .tooManyRequests)
            response.headers.replaceOrAdd(name: .retryAfter, value: SignInThrottle.retryAfterHeader(wait))
            return response
        }
        guard PasswordRules.mayVerify(password), !login.isEmpty, login.utf8.count <= 256,
            let user = try await DirectoryUser.query(on: request.db)
                .filter(\.$tenant.$id == tenant.tenantID)
                .filter(\.$userPrincipalName == login)
                .first(),
            try await request.password.async.verify(password, created: user.passwordHash)
        else {
            try await throttle.recordFailure(userName: throttleName, address: address)
            request.logger.notice(
                "Sign-in failed", metadata: ["tenant": "\(tenant.tenantId)", "client.id": "\(app.appId)"])
            return try await page.render(
                request, error: "Your account or password is incorrect.", login: parameters.login)
        }
        try await throttle.clear(userName: throttleName)
        guard user.accountEnabled else {
            return try await page.render(
                request, error: "Your account has been locked. Contact your support person to unlock it.",
                login: parameters.login)
        }

        request.logger.info(
            "User signed in",
            metadata: ["tenant": "\(tenant.tenantId)", "client.id": "\(app.appId)", "user.id": "\(user.objectId)"])
        return try await flow.afterSignIn(user: user)
    }

    private func errorPage(_ error: IdentityError, _ request: Request) async throws -> Response {
        let body = EntraErrorMiddleware.body(for: error, request: request, now: request.identity.config.now())
        let view = try await request.view.render(
            "authorize-error",
            AuthorizeErrorPage(
                code: error.aadsts, message: error.message, traceId: body.traceId, correlationId: body.correlationId,
                timestamp: body.timestamp))
        let response = try await view.encodeResponse(status: error.status, for: request)
        return response
    }
}

struct AuthorizeParameters: Content {
    var clientId: String?
    var responseType: String?
    var redirectUri: String?
    var scope: String?
    var resource: String?
    var state: String?
    var nonce: String?
    var codeChallenge: String?
    var codeChallengeMethod: String?
    var responseMode: String?
    var loginHint: String?
    var prompt: String?
    var login: String?
    var passwd: String?
    var flowToken: String?
    /// The consent page's answer: the sealed ticket of the signed-in user, `accept` or `cancel`, and whether a
    /// Global Administrator consents for the whole organization.
    var consentTicket: String?
    var consentAction: String?
    var consentForOrganization: String?

    enum CodingKeys: String, CodingKey {
        case clientId = "client_id"
        case responseType = "response_type"
        case redirectUri = "redirect_uri"
        case scope, resource, state, nonce
        case codeChallenge = "code_challenge"
        case codeChallengeMethod = "code_challenge_method"
        case responseMode = "response_mode"
        case loginHint = "login_hint"
        case prompt, login, passwd
        case flowToken = "flow_token"
        case consentTicket = "consent_ticket"
        case consentAction = "consent_action"
        case consentForOrganization = "consent_for_organization"
    }

    /// The original request, carried through the sign-in form as hidden fields.
    var hiddenFields: [SignInPage.Field] {
        let pairs: [(String, String?)] = [
            ("client_id", clientId), ("response_type", responseType), ("redirect_uri", redirectUri),
            ("scope", scope), ("resource", resource), ("state", state), ("nonce", nonce),
            ("code_challenge", codeChallenge), ("code_challenge_method", codeChallengeMethod),
            ("response_mode", responseMode), ("prompt", prompt),
        ]
        return pairs.compactMap { name, value in value.map { SignInPage.Field(name: name, value: $0) } }
    }
}

struct SignInPage {
    struct Field: Encodable {
        var name: String
        var value: String
    }

    private struct Context: Encodable {
        var appName: String
        var tenantName: String
        var action: String
        var hidden: [Field]
        var flowToken: String
        var login: String
        var error: String?
    }

    let app: TenantDirectory.App
    let tenantName: String
    let parameters: AuthorizeParameters
    let action: String

    /// Renders the form with a fresh flow token, also set as a SameSite cookie, against login CSRF.
    func render(_ request: Request, error: String?, login: String?, status: HTTPResponseStatus = .ok) async throws
        -> Response
    {
        try await Self.renderFlowPage(request, status: status) { flowToken in
            try await request.view.render(
                "signin",
                Context(
                    appName: app.displayName, tenantName: tenantName, action: action, hidden: parameters.hiddenFields,
                    flowToken: flowToken, login: login ?? "", error: error))
        }
    }

    /// A page of the sign-in flow (sign-in, consent): its form carries a fresh flow token that must match a
    /// SameSite cookie, so another site cannot post it for the user.
    static func renderFlowPage(
        _ request: Request, status: HTTPResponseStatus, _ view: (String) async throws -> View
    ) async throws -> Response {
        let flowToken = RandomToken.urlSafe(byteCount: 24)
        let response = try await view(flowToken).encodeResponse(status: status, for: request)
        response.cookies[AuthorizeController.flowCookie] = HTTPCookies.Value(
            string: flowToken, maxAge: 900, path: "/",
            isSecure: request.application.identity.config.endpoint.publicURLIsHTTPS,
            isHTTPOnly: true, sameSite: .lax)
        response.headers.replaceOrAdd(name: .cacheControl, value: "no-store")
        response.headers.replaceOrAdd(name: "X-Frame-Options", value: "DENY")
        return response
    }
}

private struct AuthorizeErrorPage: Encodable {
    var code: Int
    var message: String
    var traceId: String
    var correlationId: String
    var timestamp: String
}

/// Sends the authorization response back to the client's redirect URI, by query, fragment or form post.
struct AuthorizeReply {
    let redirectURI: String
    let state: String?
    let mode: String?

    func send(error: IdentityError, request: Request) async throws -> Response {
        let body = EntraErrorMiddleware.body(for: error, request: request, now: request.identity.config.now())
        return try await send(
            fields: [
                ("error", body.error), ("error_description", body.errorDescription),
                ("error_codes", "[\(error.aadsts)]"), ("trace_id", body.traceId),
                ("correlation_id", body.correlationId),
            ], request: request)
    }

    func send(fields: [(String, String)], request: Request) async throws -> Response {
        let all = fields + (state.map { [("state", $0)] } ?? [])
        switch mode {
        case "form_post":
            struct Context: Encodable {
                var action: String
                var fields: [SignInPage.Field]
            }
            let view = try await request.view.render(
                "form-post", Context(action: redirectURI, fields: all.map { SignInPage.Field(name: $0.0, value: $0.1) })
            )
            return try await view.encodeResponse(for: request)
        case "fragment":
            var components = URLComponents()
            components.queryItems = all.map { URLQueryItem(name: $0.0, value: $0.1) }
            return request.redirect(to: redirectURI + "#" + (components.percentEncodedQuery ?? ""))
        default:
            guard var components = URLComponents(string: redirectURI) else { throw IdentityError.malformedRequest }
            components.queryItems = (components.queryItems ?? []) + all.map { URLQueryItem(name: $0.0, value: $0.1) }
            // `+` is legal in a query but means a space to form decoders; encode it.
            components.percentEncodedQuery = components.percentEncodedQuery?.replacingOccurrences(of: "+", with: "%2B")
            return request.redirect(to: components.string ?? redirectURI)
        }
    }
}

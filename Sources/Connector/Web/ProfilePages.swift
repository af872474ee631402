import AsyncHTTPClient
import Crypto
import Foundation
import NIOCore
import ServerSupport
import Vapor
import WireModels

/// The organization profile page, as the Microsoft 365 admin center shows it: the administrator names their
/// organization, signs in at the identity provider (authorization code with PKCE, the Connector's own app as
/// the client) and edits the support integration settings of their own tenant. The session is the access token
/// itself, sealed in a cookie and verified again on every request, so any instance serves any request.
struct ProfilePages: RouteCollection {
    static let flowCookie = "m365_connector_flow"
    static let sessionCookie = "m365_connector_session"
    static let flowLifetime: TimeInterval = 600

    func boot(routes: any RoutesBuilder) throws {
        let pages = routes.grouped("profile").grouped(ProfilePageMiddleware())
        pages.get(use: show)
        pages.post("sign-in", use: signIn)
        pages.get("signed-in", use: signedIn)
        pages.post("sign-out", use: signOut)
        pages.post("basic", use: saveBasic)
        pages.post("repositories", use: saveRepository)
        pages.post("repositories", "remove", use: removeRepository)
    }

    // MARK: Sessions

    private struct Flow: Codable {
        let state: String
        let verifier: String
        let tenantId: String
        let expires: Double
    }

    private struct Session: Codable {
        let token: String
        let csrf: String
    }

    private static let flowPurpose = "connector-profile-flow:"
    private static let sessionPurpose = "connector-profile-session:"

    private func seal(_ value: some Encodable, purpose: String, _ request: Request) throws -> String {
        let json = String(decoding: try JSONEncoder().encode(value), as: UTF8.self)
        return try request.application.connector.config.masterKey.seal(purpose + json)
    }

    private func open<T: Decodable>(_ type: T.Type, cookie: String, purpose: String, _ request: Request) -> T? {
        guard let sealed = request.cookies[cookie]?.string, sealed.utf8.count <= 8192,
            let plain = try? request.application.connector.config.masterKey.open(sealed), plain.hasPrefix(purpose)
        else { return nil }
        return try? JSONDecoder().decode(T.self, from: Data(plain.dropFirst(purpose.count).utf8))
    }

    private func cookie(_ value: String, _ request: Request, maxAge: Int?) -> HTTPCookies.Value {
        HTTPCookies.Value(
            string: value, maxAge: maxAge, path: "/profile",
            isSecure: request.application.connector.config.endpoint.publicURLIsHTTPS, isHTTPOnly: true,
            sameSite: .lax)
    }

    /// The signed-in caller, from a session whose token still verifies; nil when there is none.
    private func session(_ request: Request) async throws -> (Caller, Session)? {
        guard let session = open(Session.self, cookie: Self.sessionCookie, purpose: Self.sessionPurpose, request) else {
            return nil
        }
        let context = request.application.connector
        let verifier = CallerVerifier(
            config: context.config, cache: context.keyCache, http: context.http,
            tenants: try context.tenants(request.db),
            logger: request.logger, correlationId: request.id)
        do {
            let caller = try await verifier.verify(session.token)
            try caller.require(scope: ConnectorResource.profileScope)
            return (caller, session)
        } catch is ConnectorError {
            return nil
        }
    }

    private func requireEditor(_ request: Request) async throws -> (Caller, Session) {
        guard let (caller, session) = try await session(request) else {
            throw ProfilePageError(.unauthorized, "Your session has ended. Sign in again.")
        }
        struct CSRF: Content { var csrf: String? }
        let given = (try? request.content.decode(CSRF.self))?.csrf ?? ""
        guard !given.isEmpty,
            Data(SHA256.hash(data: Data(given.utf8))) == Data(SHA256.hash(data: Data(session.csrf.utf8)))
        else { throw ProfilePageError(.forbidden, "The form expired. Reload the page and try again.") }
        guard caller.isProfileAdministrator else {
            throw ProfilePageError(
                .forbidden,
                "Only a Global Administrator or a Service Support Administrator may change the organization profile.")
        }
        return (caller, session)
    }

    // MARK: Pages

    func show(_ request: Request) async throws -> Response {
        guard let (caller, session) = try await session(request) else {
            return try await render(
                request, signedIn: nil, tenant: (try? request.query.get(String.self, at: "tenant")) ?? "")
        }
        let saved = (try? request.query.get(String.self, at: "saved")).flatMap { Self.savedMessages[$0] }
        return try await render(request, signedIn: (caller, session), saved: saved)
    }

    private static let savedMessages = [
        "basic": "Basic information saved.", "repository": "Repository saved.", "removed": "Repository removed.",
    ]

    func signIn(_ request: Request) async throws -> Response {
        struct Form: Content { var tenant: String? }
        let name = ((try? request.content.decode(Form.self))?.tenant ?? "").trimmingCharacters(in: .whitespaces)
        guard let tenant = try await request.application.tenants(request.db).find(name) else {
            return try await render(
                request, signedIn: nil, tenant: String(name.prefix(255)), status: .badRequest,
                error: name.isEmpty
                    ? "Enter your organization's domain, such as contoso.onmicrosoft.com."
                    : "This support integration does not serve \(name.prefix(100)). Ask your support provider to register your organization."
            )
        }
        guard let clientId = tenant.resourceAppId else {
            throw ProfilePageError(
                .serviceUnavailable,
                "Sign-in is not set up for \(tenant.displayName): the Connector's app ID in the tenant is not registered."
            )
        }
        let config = request.application.connector.config
        let verifier = RandomToken.urlSafe(byteCount: 32)
        let flow = Flow(
            state: RandomToken.urlSafe(byteCount: 16), verifier: verifier, tenantId: tenant.tenantId,
            expires: config.now().timeIntervalSince1970 + Self.flowLifetime)
        let challenge = Data(SHA256.hash(data: Data(verifier.utf8))).base64URLEncodedString()
        let query = FormBody.encode([
            ("client_id", clientId), ("response_type", "code"), ("redirect_uri", Self.redirectURI(config)),
            ("scope", "\(config.resource)/\(ConnectorResource.profileScope)"), ("state", flow.state),
            ("code_challenge", challenge), ("code_challenge_method", "S256"),
        ])
        let response = request.redirect(
            to: "\(config.authority)/\(tenant.tenantId)/oauth2/v2.0/authorize?\(query)", redirectType: .normal)
        response.cookies[Self.flowCookie] = cookie(
            try seal(flow, purpose: Self.flowPurpose, request), request, maxAge: Int(Self.flowLifetime))
        return response
    }

    static func redirectURI(_ config: ConnectorConfig) -> String { config.endpoint.publicURL + "/profile/signed-in" }

    func signedIn(_ request: Request) async throws -> Response {
        struct Answer: Content {
            var code: String?
            var state: String?
            var error: String?
            var error_description: String?
        }
        let answer = try request.query.decode(Answer.self)
        let config = request.application.connector.config
        guard let flow = open(Flow.self, cookie: Self.flowCookie, purpose: Self.flowPurpose, request),
            flow.expires > config.now().timeIntervalSince1970, let state = answer.state, state == flow.state
        else {
            throw ProfilePageError(.badRequest, "The sign-in took too long or came from elsewhere. Sign in again.")
        }
        if let error = answer.error {
            throw ProfilePageError(
                .forbidden,
                "Sign-in did not complete: \((answer.error_description ?? error).prefix(300))")
        }
        guard let code = answer.code, !code.isEmpty, code.utf8.count <= 4096,
            let tenant = try await request.application.tenants(request.db).find(flow.tenantId),
            let clientId = tenant.resourceAppId
        else { throw ProfilePageError(.badRequest, "The sign-in answer has no code. Sign in again.") }

        let token = try await redeem(
            code: code, verifier: flow.verifier, tenantId: tenant.tenantId, clientId: clientId, request)
        let csrf = RandomToken.urlSafe(byteCount: 24)
        let response = request.redirect(to: "/profile", redirectType: .normal)
        response.cookies[Self.sessionCookie] = cookie(
            try seal(Session(token: token, csrf: csrf), purpose: Self.sessionPurpose, request), request, maxAge: nil)
        response.cookies[Self.flowCookie] = cookie("", request, maxAge: 0)
        return response
    }

    private func redeem(code: String, verifier: String, tenantId: String, clientId: String, _ request: Request)
        async throws -> String
    {
        let config = request.application.connector.config
        let url = "\(config.authority)/\(tenantId)/oauth2/v2.0/token"
        var call = HTTPClientRequest(url: url)
        call.method = .POST
        call.headers.add(name: "Content-Type", value: "application/x-www-form-urlencoded")
        let form = FormBody.encode([
            ("grant_type", "authorization_code"), ("client_id", clientId), ("code", code),
            ("redirect_uri", Self.redirectURI(config)), ("code_verifier", verifier),
        ])
        let exchange: OutboundExchange
        do {
            exchange = try await request.application.connector.http.send(
                call, body: ByteBuffer(string: form), source: "oauth", correlationId: request.id,
                secrets: [code, verifier], log: ProcessOutboundLog(), logger: request.logger)
        } catch let failure as OutboundFailure {
            throw ProfilePageError(
                .badGateway, "The identity provider \(failure.host) could not be reached: \(failure.reason).")
        }
        let object = try? JSONSerialization.jsonObject(with: Data(exchange.body.readableBytesView)) as? [String: Any]
        guard exchange.status == .ok, let token = object?["access_token"] as? String else {
            let description = (object?["error_description"] as? String).map { String($0.prefix(300)) }
            throw ProfilePageError(
                .badGateway,
                "The identity provider refused the sign-in: \(description ?? "HTTP \(exchange.status.code)")")
        }
        return token
    }

    func signOut(_ request: Request) async throws -> Response {
        let response = request.redirect(to: "/profile", redirectType: .normal)
        response.cookies[Self.sessionCookie] = cookie("", request, maxAge: 0)
        return response
    }

    // MARK: Changes

    func saveBasic(_ request: Request) async throws -> Response {
        let (caller, session) = try await requireEditor(request)
        struct Form: Content {
            var supportTool: String?
            var appId: String?
        }
        let form = try request.content.decode(Form.self)
        do {
            _ = try await request.application.profiles(request.db).update(
                tenant: caller.tenantId,
                OrganizationProfileUpdate(supportTool: form.supportTool, appId: form.appId ?? ""),
                by: caller.userName)
        } catch let refusal as ConnectorError where refusal.status == .badRequest {
            return try await render(request, signedIn: (caller, session), status: .badRequest, error: refusal.reason)
        }
        return request.redirect(to: "/profile?saved=basic", redirectType: .normal)
    }

    func saveRepository(_ request: Request) async throws -> Response {
        let (caller, session) = try await requireEditor(request)
        struct Form: Content {
            var repositoryId: String?
            var endpoint: String?
            var authenticationType: String?
            var clientId: String?
            var clientSecret: String?
            var refreshTokenExpiration: String?
            var restUserName: String?
            var restUserPassword: String?
        }
        let form = try request.content.decode(Form.self)
        let store = try request.application.profiles(request.db)
        do {
            var expiration: Int?
            if let text = form.refreshTokenExpiration?.trimmingCharacters(in: .whitespaces), !text.isEmpty {
                guard let value = InputNumber.parse(text, in: 0...Int.max) else {
                    throw ConnectorError.invalid("The refresh token expiration is a number of seconds, such as 864000.")
                }
                expiration = value
            }
            let id = (form.repositoryId ?? "").trimmingCharacters(in: .whitespaces)
            let exists = try await store.profile(tenant: caller.tenantId).repositories.contains {
                $0.repositoryId == id
            }
            // An empty secret in the form keeps the stored one: the page never shows secrets to edit.
            let input = RepositoryInput(
                repositoryId: id, endpoint: form.endpoint, authenticationType: form.authenticationType,
                clientId: form.clientId, clientSecret: form.clientSecret.flatMap { $0.isEmpty ? nil : $0 },
                refreshTokenExpiration: expiration, restUserName: form.restUserName,
                restUserPassword: form.restUserPassword.flatMap { $0.isEmpty ? nil : $0 })
            _ = try await store.saveRepository(tenant: caller.tenantId, input, create: !exists, by: caller.userName)
        } catch let refusal as ConnectorError where refusal.status == .badRequest {
            return try await render(request, signedIn: (caller, session), status: .badRequest, error: refusal.reason)
        }
        return request.redirect(to: "/profile?saved=repository", redirectType: .normal)
    }

    func removeRepository(_ request: Request) async throws -> Response {
        let (caller, _) = try await requireEditor(request)
        struct Form: Content { var repositoryId: String? }
        let id = try request.content.decode(Form.self).repositoryId ?? ""
        try await request.application.profiles(request.db).deleteRepository(tenant: caller.tenantId, id: id)
        return request.redirect(to: "/profile?saved=removed", redirectType: .normal)
    }

    // MARK: Rendering

    private struct Context: Encodable {
        struct Tool: Encodable {
            let value: String
            let selected: Bool
        }

        var signedIn: Bool
        var canEdit = false
        var userName = ""
        var tenantName = ""
        var csrf = ""
        var profile: OrganizationProfile?
        var appId = ""
        var hasRepositories = false
        var supportTools: [Tool] = []
        var tenant = ""
        var error: String?
        var saved: String?
    }

    private func render(
        _ request: Request, signedIn: (Caller, Session)?, tenant: String = "", status: HTTPStatus = .ok,
        error: String? = nil, saved: String? = nil
    ) async throws -> Response {
        var context = Context(signedIn: signedIn != nil, tenant: tenant, error: error, saved: saved)
        if let (caller, session) = signedIn {
            let profile = try await request.application.profiles(request.db).profile(tenant: caller.tenantId)
            context.canEdit = caller.isProfileAdministrator
            context.userName = caller.userName ?? "a user"
            context.tenantName = caller.tenant.displayName
            context.csrf = session.csrf
            context.profile = profile
            context.appId = profile.appId ?? ""
            context.hasRepositories = !profile.repositories.isEmpty
            context.supportTools = OrganizationProfile.supportTools.map {
                .init(value: $0, selected: $0 == profile.supportTool)
            }
        }
        let view = try await request.view.render("profile", context)
        let response = try await view.encodeResponse(status: status, for: request)
        ProfilePageMiddleware.protect(response, authority: request.application.connector.config.authority)
        return response
    }
}

/// A failure on the profile pages, shown as a page.
struct ProfilePageError: Error {
    let status: HTTPStatus
    let message: String

    init(_ status: HTTPStatus, _ message: String) {
        self.status = status
        self.message = message
    }
}

/// Answers the profile pages' failures as a page with the message (and the request ID), never as JSON, and
/// adds the headers every page carries.
struct ProfilePageMiddleware: AsyncMiddleware {
    func respond(to request: Request, chainingTo next: any AsyncResponder) async throws -> Response {
        let authority = request.application.connector.config.authority
        do {
            let response = try await next.respond(to: request)
            Self.protect(response, authority: authority)
            return response
        } catch {
            let (status, message): (HTTPStatus, String) =
                switch error {
                case let page as ProfilePageError: (page.status, page.message)
                case let refusal as ConnectorError: (refusal.status, refusal.reason)
                case let abort as any AbortError where abort.status.code < 500: (abort.status, abort.reason)
                default: (.internalServerError, "Something went wrong.")
                }
            request.logger.notice(
                "Profile page refused",
                metadata: ["status": "\(status.code)", "reason": "\(message)", "correlation_id": "\(request.id)"])
            if status == .internalServerError {
                request.logger.error("Profile page failed", metadata: ["error": "\(String(reflecting: error))"])
            }
            let body = """
                <!doctype html><html lang="en"><head><meta charset="utf-8"><title>Organization profile</title></head>
                <body style="font-family: system-ui, sans-serif; max-width: 40rem; margin: 4rem auto">
                <h1>Organization profile</h1><p id="error" role="alert">\(Self.escape(message))</p>
                <p><a href="/profile">Back to the organization profile</a></p>
                <p style="color:#666;font-size:.85rem">Reference: \(Self.escape(request.id))</p></body></html>
                """
            let response = Response(status: status, body: .init(string: body))
            response.headers.contentType = .html
            Self.protect(response, authority: authority)
            return response
        }
    }

    /// No framing, no caching, scripts off; forms post here, and sign-in continues at the authority.
    static func protect(_ response: Response, authority: String) {
        response.headers.replaceOrAdd(
            name: "Content-Security-Policy",
            value:
                "default-src 'none'; style-src 'unsafe-inline'; form-action 'self' \(authority); frame-ancestors 'none'; base-uri 'none'"
        )
        response.headers.replaceOrAdd(name: "X-Content-Type-Options", value: "nosniff")
        response.headers.replaceOrAdd(name: "Cache-Control", value: "no-store")
        response.headers.replaceOrAdd(name: "Referrer-Policy", value: "no-referrer")
    }

    static func escape(_ text: String) -> String {
        text.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
            .replacingOccurrences(of: ">", with: "&gt;").replacingOccurrences(of: "\"", with: "&quot;")
    }
}

import AsyncHTTPClient
import Crypto
import Foundation
import NIOCore
import ServerSupport
import Vapor
import WireModels

/// Signing a person in for one of the Connector's pages: authorization code with PKCE at the authority, the
/// Connector's own app in the user's tenant as the client, the delegated permission as scope. The session is the
/// access token itself, sealed in a cookie and verified again on every request, so any instance serves any
/// request; forms carry the session's CSRF token. The organization profile page and the engineers' console each
/// have one, under their own path and cookies.
struct DelegatedSignIn: Sendable {
    /// `/profile` or `/console`: the page, and the prefix of `sign-in`, `signed-in` and `sign-out`.
    let path: String
    let flowCookie: String
    let sessionCookie: String
    let purpose: String

    static let flowLifetime: TimeInterval = 600

    struct Session: Codable, Sendable {
        let token: String
        let csrf: String
    }

    private struct Flow: Codable {
        let state: String
        let verifier: String
        let tenantId: String
        let expires: Double
    }

    func redirectURI(_ config: ConnectorConfig) -> String { config.endpoint.publicURL + path + "/signed-in" }

    private func seal(_ value: some Encodable, kind: String, _ request: Request) throws -> String {
        let json = String(decoding: try JSONEncoder().encode(value), as: UTF8.self)
        return try request.application.connector.config.masterKey.seal(purpose + kind + json)
    }

    private func open<T: Decodable>(_ type: T.Type, cookie: String, kind: String, _ request: Request) -> T? {
        guard let sealed = request.cookies[cookie]?.string, sealed.utf8.count <= 8192,
            let plain = try? request.application.connector.config.masterKey.open(sealed),
            plain.hasPrefix(purpose + kind)
        else { return nil }
        return try? JSONDecoder().decode(T.self, from: Data(plain.dropFirst((purpose + kind).count).utf8))
    }

    private func cookie(_ value: String, _ request: Request, maxAge: Int?) -> HTTPCookies.Value {
        HTTPCookies.Value(
            string: value, maxAge: maxAge, path: path,
            isSecure: request.application.connector.config.endpoint.publicURLIsHTTPS, isHTTPOnly: true,
            sameSite: .lax)
    }

    /// The signed-in caller, from a session whose token still verifies; nil when there is none.
    func session(_ request: Request) async throws -> (Caller, Session)? {
        guard let session = open(Session.self, cookie: sessionCookie, kind: "session:", request) else { return nil }
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

    /// The session of a form post whose CSRF token matches.
    func requireForm(_ request: Request) async throws -> (Caller, Session) {
        guard let (caller, session) = try await session(request) else {
            throw ProfilePageError(.unauthorized, "Your session has ended. Sign in again.")
        }
        struct CSRF: Content { var csrf: String? }
        let given = (try? request.content.decode(CSRF.self))?.csrf ?? ""
        guard !given.isEmpty,
            Data(SHA256.hash(data: Data(given.utf8))) == Data(SHA256.hash(data: Data(session.csrf.utf8)))
        else { throw ProfilePageError(.forbidden, "The form expired. Reload the page and try again.") }
        return (caller, session)
    }

    /// Sends the browser to the authority to sign in to `tenant`.
    func start(_ tenant: TenantRecord, _ request: Request) throws -> Response {
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
            ("client_id", clientId), ("response_type", "code"), ("redirect_uri", redirectURI(config)),
            ("scope", "\(config.resource)/\(ConnectorResource.profileScope)"), ("state", flow.state),
            ("code_challenge", challenge), ("code_challenge_method", "S256"),
        ])
        let response = request.redirect(
            to: "\(config.authority)/\(tenant.tenantId)/oauth2/v2.0/authorize?\(query)", redirectType: .normal)
        response.cookies[flowCookie] = cookie(
            try seal(flow, kind: "flow:", request), request, maxAge: Int(Self.flowLifetime))
        return response
    }

    /// The authority's answer: the code redeemed, the session cookie set, back to the page.
    func finish(_ request: Request) async throws -> Response {
        struct Answer: Content {
            var code: String?
            var state: String?
            var error: String?
            var error_description: String?
        }
        let answer = try request.query.decode(Answer.self)
        let config = request.application.connector.config
        guard let flow = open(Flow.self, cookie: flowCookie, kind: "flow:", request),
            flow.expires > config.now().timeIntervalSince1970, let state = answer.state, state == flow.state
        else {
            throw ProfilePageError(.badRequest, "The sign-in took too long or came from elsewhere. Sign in again.")
        }
        if let error = answer.error {
            throw ProfilePageError(
                .forbidden, "Sign-in did not complete: \((answer.error_description ?? error).prefix(300))")
        }
        guard let code = answer.code, !code.isEmpty, code.utf8.count <= 4096,
            let tenant = try await request.application.tenants(request.db).find(flow.tenantId),
            let clientId = tenant.resourceAppId
        else { throw ProfilePageError(.badRequest, "The sign-in answer has no code. Sign in again.") }
        let token = try await redeem(
            code: code, verifier: flow.verifier, tenantId: tenant.tenantId, clientId: clientId, request)
        let response = request.redirect(to: path, redirectType: .normal)
        response.cookies[sessionCookie] = cookie(
            try seal(Session(token: token, csrf: RandomToken.urlSafe(byteCount: 24)), kind: "session:", request),
            request, maxAge: nil)
        response.cookies[flowCookie] = cookie("", request, maxAge: 0)
        return response
    }

    func signOut(_ request: Request) -> Response {
        let response = request.redirect(to: path, redirectType: .normal)
        response.cookies[sessionCookie] = cookie("", request, maxAge: 0)
        return response
    }

    private func redeem(code: String, verifier: String, tenantId: String, clientId: String, _ request: Request)
        async throws -> String
    {
        let config = request.application.connector.config
        var call = HTTPClientRequest(url: "\(config.authority)/\(tenantId)/oauth2/v2.0/token")
        call.method = .POST
        call.headers.add(name: "Content-Type", value: "application/x-www-form-urlencoded")
        let form = FormBody.encode([
            ("grant_type", "authorization_code"), ("client_id", clientId), ("code", code),
            ("redirect_uri", redirectURI(config)), ("code_verifier", verifier),
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
}

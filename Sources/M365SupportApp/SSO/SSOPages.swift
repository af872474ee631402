import Crypto
import Foundation
import ServerSupport
import ServiceDesk
import Vapor
import WireModels

/// SSO with Microsoft 365 (an app setting): "Sign in with Microsoft" on the desk's sign-in page. OpenID Connect
/// authorization code with PKCE at the tenant's authority, the outbound app registration as the client (its
/// secret stays in the Application Registry); the ID token's e-mail names the desk user, and the Microsoft 365
/// account becomes the user's default contact for cases.
struct SSOPages: RouteCollection {
    /// How long a sign-in may take between leaving for Microsoft and coming back.
    static let flowLifetime: TimeInterval = 600
    static let cookie = "x_mioms_m365_assis_sso"
    static let title = "Sign in with Microsoft"

    struct Flow: Codable {
        let state: String
        let verifier: String
        let nonce: String
        let goto: String
        let expires: Double
    }

    struct Failure: Encodable, Sendable {
        let message: String
        let logId: String?
    }

    func boot(routes: any RoutesBuilder) throws {
        routes.get(AppPath.sso.pathComponents) { request in try await self.start(request) }
        routes.get(AppPath.ssoCallback.pathComponents) { request in try await self.callback(request) }
    }

    /// The sign-in page's option, while SSO is on and the setup complete.
    static func options(_ request: Request) async throws -> [DeskSignInOption] {
        let settings = try await AppSettingsStore(sql: try request.deskApp(M365SupportApp.scope).sql).load()
        guard settings.ssoEnabled, settings.isComplete else { return [] }
        return [DeskSignInOption(title: title, path: AppPath.sso)]
    }

    /// The authority's base (`https://login…/{tenant}`) and the client ID, from the outbound provider.
    private func client(_ services: DeskAppServices, _ settings: AppSettings) async throws
        -> (base: String, clientId: String, profile: String)?
    {
        guard settings.ssoEnabled, settings.isComplete, let profile = settings.outboundProfile,
            let provider = try await services.providerProfiles().first(where: { $0.profileId == profile }),
            let v2 = OutboundOAuthURLs.v2Token(provider.tokenURL)
        else { return nil }
        return (String(v2.dropLast("/oauth2/v2.0/token".count)), provider.clientId, profile)
    }

    private func start(_ request: Request) async throws -> Response {
        let services = try request.deskApp(M365SupportApp.scope)
        let settings = try await AppSettingsStore(sql: services.sql).load()
        guard let client = try await client(services, settings) else {
            return try await failed(
                request,
                "Sign in with Microsoft is not turned on for this desk. Sign in with your user name and "
                    + "password.", logId: nil, status: .notFound)
        }
        let verifier = RandomToken.urlSafe(byteCount: 32)
        let flow = Flow(
            state: RandomToken.urlSafe(byteCount: 16), verifier: verifier, nonce: RandomToken.urlSafe(byteCount: 16),
            goto: LocalRedirect.safePath(request.query[String.self, at: "sysparm_goto"]) ?? "/",
            expires: services.now.timeIntervalSince1970 + Self.flowLifetime)
        let challenge = Data(SHA256.hash(data: Data(verifier.utf8))).base64URLEncodedString()
        var components = URLComponents(string: client.base + "/oauth2/v2.0/authorize")
        components?.queryItems = [
            .init(name: "client_id", value: client.clientId), .init(name: "response_type", value: "code"),
            .init(name: "redirect_uri", value: Self.redirectURI(services)),
            .init(name: "response_mode", value: "query"),
            .init(name: "scope", value: "openid profile email"), .init(name: "state", value: flow.state),
            .init(name: "nonce", value: flow.nonce), .init(name: "code_challenge", value: challenge),
            .init(name: "code_challenge_method", value: "S256"),
        ]
        guard let url = components?.url?.absoluteString else { throw Abort(.internalServerError) }
        let response = request.redirect(to: url)
        response.cookies[Self.cookie] = HTTPCookies.Value(
            string: try services.seal(String(decoding: try JSONEncoder().encode(flow), as: UTF8.self), purpose: "sso"),
            maxAge: Int(Self.flowLifetime), path: AppPath.ssoCallback, isSecure: services.usesHTTPS, isHTTPOnly: true,
            sameSite: .lax)
        return response
    }

    static func redirectURI(_ services: DeskAppServices) -> String { services.publicURL + AppPath.ssoCallback }

    private func callback(_ request: Request) async throws -> Response {
        let services = try request.deskApp(M365SupportApp.scope)
        let settings = try await AppSettingsStore(sql: services.sql).load()
        guard let client = try await client(services, settings) else {
            return try await failed(request, "Sign in with Microsoft is not turned on for this desk.", logId: nil)
        }
        guard let sealed = request.cookies[Self.cookie]?.string,
            let json = services.open(sealed, purpose: "sso"),
            let flow = try? JSONDecoder().decode(Flow.self, from: Data(json.utf8)),
            flow.expires > services.now.timeIntervalSince1970,
            let state = request.query[String.self, at: "state"], state == flow.state
        else {
            return try await failed(
                request, "The sign-in took too long or did not start on this desk. Try again.", logId: nil)
        }
        if let error = request.query[String.self, at: "error"] {
            let description = request.query[String.self, at: "error_description"] ?? ""
            let logId = await services.log(
                .warning,
                "Sign in with Microsoft refused by the authority: \(error.prefix(100)) \(description.prefix(500))")
            return try await failed(
                request, "Microsoft did not sign you in (\(error.prefix(100))).", logId: logId)
        }
        guard let code = request.query[String.self, at: "code"], !code.isEmpty, code.utf8.count <= 4096 else {
            return try await failed(request, "Microsoft sent no authorization code. Try again.", logId: nil)
        }
        let email: String
        do {
            let tokens = try await services.redeemAuthorizationCode(
                profileId: client.profile, code: code, redirectURI: Self.redirectURI(services),
                verifier: flow.verifier)
            guard let idToken = tokens["id_token"] as? String else {
                throw JWTRefusal(reason: "the token response has no id_token")
            }
            let claims = try await services.verifiedClaims(
                of: idToken, metadataURL: client.base + "/v2.0/.well-known/openid-configuration")
            guard (claims["aud"] as? String) == client.clientId else {
                throw JWTRefusal(reason: "the ID token is for another client")
            }
            guard (claims["nonce"] as? String) == flow.nonce else {
                throw JWTRefusal(reason: "the ID token's nonce is not this sign-in's")
            }
            if let tenant = settings.tenantId, (claims["tid"] as? String)?.lowercased() != tenant.lowercased() {
                throw JWTRefusal(reason: "the account is not in the tenant \(tenant) this desk is integrated with")
            }
            guard
                let account = (claims["email"] as? String) ?? (claims["preferred_username"] as? String)
                    ?? (claims["upn"] as? String),
                EmailAddress.isValid(account)
            else { throw JWTRefusal(reason: "the ID token names no e-mail address") }
            email = account.lowercased()
        } catch let failure as OutboundOAuth.Failure {
            let logId = await services.log(.error, "Sign in with Microsoft failed: \(failure.message)")
            return try await failed(request, "Microsoft sign-in could not be completed.", logId: logId)
        } catch let refusal as JWTRefusal {
            let logId = await services.log(.warning, "Sign in with Microsoft refused: \(refusal.reason)")
            return try await failed(request, "Microsoft sign-in could not be completed.", logId: logId)
        }
        guard let user = try await services.interactiveUser(email: email) else {
            let logId = await services.log(
                .warning, "Sign in with Microsoft: no desk user (or more than one) has the e-mail \(email)")
            return try await failed(
                request,
                "You signed in to Microsoft 365 as \(email), but no desk user has that e-mail address. Ask a desk "
                    + "administrator to set it on your user record.",
                logId: logId, status: .forbidden)
        }
        let response = try await services.startWebSession(for: user, externalAccount: email, goto: flow.goto)
        response.cookies[Self.cookie] = HTTPCookies.Value(string: "", maxAge: 0, path: AppPath.ssoCallback)
        return response
    }

    private func failed(
        _ request: Request, _ message: String, logId: String?, status: HTTPResponseStatus = .badRequest
    ) async throws -> Response {
        try await request.page(
            "x_mioms_m365_assis/sso_failed", title: Self.title, Failure(message: message, logId: logId),
            status: status)
    }
}

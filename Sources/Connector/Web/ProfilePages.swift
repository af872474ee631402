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
    func boot(routes: any RoutesBuilder) throws {
        let pages = routes.grouped("profile").grouped(ProfilePageMiddleware())
        pages.get(use: show)
        pages.post("sign-in", use: startSignIn)
        pages.get("signed-in", use: signedIn)
        pages.post("sign-out", use: signOut)
        pages.post("basic", use: saveBasic)
        pages.post("repositories", use: saveRepository)
        pages.post("repositories", "remove", use: removeRepository)
    }

    static let signIn = DelegatedSignIn(
        path: "/profile", flowCookie: "m365_connector_flow", sessionCookie: "m365_connector_session",
        purpose: "connector-profile-")
    typealias Session = DelegatedSignIn.Session

    private func session(_ request: Request) async throws -> (Caller, Session)? {
        try await Self.signIn.session(request)
    }

    private func requireEditor(_ request: Request) async throws -> (Caller, Session) {
        let (caller, session) = try await Self.signIn.requireForm(request)
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

    func startSignIn(_ request: Request) async throws -> Response {
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
        return try Self.signIn.start(tenant, request)
    }

    static func redirectURI(_ config: ConnectorConfig) -> String { signIn.redirectURI(config) }

    func signedIn(_ request: Request) async throws -> Response {
        try await Self.signIn.finish(request)
    }

    func signOut(_ request: Request) async throws -> Response {
        Self.signIn.signOut(request)
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
            let console = request.url.path.hasPrefix("/console")
            let (title, home) = console ? ("Support console", "/console") : ("Organization profile", "/profile")
            let body = """
                <!doctype html><html lang="en"><head><meta charset="utf-8"><title>\(title)</title></head>
                <body style="font-family: system-ui, sans-serif; max-width: 40rem; margin: 4rem auto">
                <h1>\(title)</h1><p id="error" role="alert">\(Self.escape(message))</p>
                <p><a href="\(home)">Back to the \(title.lowercased())</a></p>
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

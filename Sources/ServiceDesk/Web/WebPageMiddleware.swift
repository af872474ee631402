import Foundation
import ServerSupport
import Vapor
import WireModels

/// Frames every web page: finds the session, sets protective headers, and turns failures into pages
/// (sign-in redirect, "not allowed", "not found", "form expired") instead of ServiceNow's JSON envelope.
struct WebPageMiddleware: AsyncMiddleware {
    static let sessionCookie = "desk_session"
    static let noticeCookie = "desk_notice"

    func respond(to request: Request, chainingTo next: any AsyncResponder) async throws -> Response {
        let notice = request.cookies[Self.noticeCookie]?.string
        if let notice, let data = Data(base64URLEncoded: notice) {
            request.pendingNotice = String(decoding: data.prefix(500), as: UTF8.self)
        }
        let response: Response
        do {
            if let token = request.cookies[Self.sessionCookie]?.string, !token.isEmpty {
                request.webUser = try await Self.user(sessionToken: token, request: request)
            }
            response = try await next.respond(to: request)
        } catch let error as WebError {
            response = try await page(for: error, request: request)
        } catch let error as DeskError where error.kind == .badRequest || error.kind == .notFound {
            response = try await request.page(
                "message", title: error.message,
                Message(heading: error.message, text: error.detail ?? "", link: nil),
                status: error.status)
        } catch let abort as any AbortError where abort.status.code < 500 {
            let text =
                abort.status == .payloadTooLarge
                ? "The form is larger than the desk accepts. Shorten it and send it again."
                : abort.reason
            response = try await request.page(
                "message", title: abort.status.reasonPhrase,
                Message(
                    heading: abort.status.reasonPhrase, text: text,
                    link: Message.Link(title: "Back to the start page", href: "/")),
                status: abort.status)
        } catch {
            request.logger.error(
                "Web page failed",
                metadata: ["error": "\(String(reflecting: error))", "correlation_id": "\(request.correlationId)"])
            response = try await request.page(
                "message", title: "Something went wrong",
                Message(
                    heading: "Something went wrong",
                    text: "The desk could not complete this request. If it happens again, give your administrator "
                        + "this reference: \(request.correlationId).",
                    link: Message.Link(title: "Back to the start page", href: "/")),
                status: .internalServerError)
        }
        if notice != nil, response.status != .seeOther {
            response.cookies[Self.noticeCookie] = HTTPCookies.Value(string: "", maxAge: 0, path: "/")
        }
        response.headers.replaceOrAdd(name: .cacheControl, value: "no-store")
        response.headers.replaceOrAdd(name: "X-Frame-Options", value: "DENY")
        response.headers.replaceOrAdd(name: "X-Content-Type-Options", value: "nosniff")
        response.headers.replaceOrAdd(name: "Referrer-Policy", value: "same-origin")
        response.headers.replaceOrAdd(
            name: "Content-Security-Policy",
            value: "default-src 'self'; style-src 'self' 'unsafe-inline'; script-src 'self'; "
                + "frame-ancestors 'none'; form-action 'self'")
        return response
    }

    private static func user(sessionToken: String, request: Request) async throws -> WebUser? {
        let sql = try request.sqlDatabase
        guard let session = try await WebSessionStore(sql: sql, now: request.desk.config.now()).find(sessionToken),
            let principal = try await DeskAuthenticator.principal(sysId: session.userId, sql: sql),
            !principal.webServiceAccessOnly
        else { return nil }
        return WebUser(
            principal: principal, csrfToken: session.csrfToken, externalAccount: session.externalAccount)
    }

    private func page(for error: WebError, request: Request) async throws -> Response {
        switch error {
        case .signInRequired:
            var target = request.url.path
            if request.method == .GET, let query = request.url.query { target += "?" + query }
            var components = URLComponents()
            components.path = DeskPath.login
            components.queryItems = [URLQueryItem(name: "sysparm_goto", value: target)]
            return request.seeOther(components.string ?? DeskPath.login)
        case .notAllowed:
            request.logger.notice(
                "Web page refused: missing role",
                metadata: ["http.path": "\(request.url.path)", "user": "\(request.webUser?.userName ?? "")"])
            return try await request.page(
                "message", title: "Not allowed",
                Message(
                    heading: "You are not allowed to open this page",
                    text: "Your account (\(request.webUser?.userName ?? "")) does not have a role this page needs. "
                        + "Ask a desk administrator for access if you need it.",
                    link: Message.Link(title: "Back to the start page", href: "/")),
                status: .forbidden)
        case .notFound(let what):
            return try await request.page(
                "message", title: "Not found",
                Message(
                    heading: "Not found", text: "\(what) does not exist or was deleted.",
                    link: Message.Link(title: "Back to the start page", href: "/")),
                status: .notFound)
        case .formExpired:
            request.logger.notice(
                "Web form refused: missing or wrong CSRF token", metadata: ["http.path": "\(request.url.path)"])
            return try await request.page(
                "message", title: "Form expired",
                Message(
                    heading: "This form has expired",
                    text: "The form was not sent from this desk's current session, so nothing was changed. "
                        + "Open the page again and resend it.",
                    link: Message.Link(title: "Back to the start page", href: "/")),
                status: .forbidden)
        }
    }
}

/// A short page with a heading, a sentence and a way on.
struct Message: Encodable, Sendable {
    struct Link: Encodable, Sendable {
        let title: String
        let href: String
    }

    let heading: String
    let text: String
    let link: Link?
}

/// Form posts of signed-in users. Every one is checked against the session's CSRF token (`sysparm_ck`, as
/// ServiceNow names it) before its handler runs, so no form can forget the check.
package struct WebForm: Sendable {
    package let fields: [String: String]
    package let user: WebUser

    package subscript(_ name: String) -> String? { fields[name] }

    /// The field trimmed, nil when empty.
    package func text(_ name: String) -> String? {
        guard let value = fields[name]?.trimmingCharacters(in: .whitespacesAndNewlines), !value.isEmpty else {
            return nil
        }
        return value
    }

    static func read(_ request: Request, roles: Set<String>?) throws -> WebForm {
        let user = try request.requireWebUser(roles)
        guard let body = request.body.data, let fields = FormBody.parse(body) else { throw WebError.formExpired }
        guard let sent = fields["sysparm_ck"], constantTimeEquals(sent, user.csrfToken) else {
            throw WebError.formExpired
        }
        return WebForm(fields: fields, user: user)
    }

    static func constantTimeEquals(_ a: String, _ b: String) -> Bool {
        let left = Array(a.utf8)
        let right = Array(b.utf8)
        guard left.count == right.count else { return false }
        var difference: UInt8 = 0
        for index in left.indices { difference |= left[index] ^ right[index] }
        return difference == 0
    }
}

extension RoutesBuilder {
    /// Registers a form post for users holding one of `roles`; the handler runs only with a valid CSRF token.
    package func form(
        _ path: PathComponent..., roles: Set<String>?,
        use handler: @escaping @Sendable (Request, WebForm) async throws -> Response
    ) {
        form(path, roles: roles, use: handler)
    }

    package func form(
        _ path: [PathComponent], roles: Set<String>?,
        use handler: @escaping @Sendable (Request, WebForm) async throws -> Response
    ) {
        on(.POST, path, body: .collect(maxSize: "1mb")) { request in
            try await handler(request, try WebForm.read(request, roles: roles))
        }.maxBodySize("1mb")
    }
}

import Foundation
import ServerSupport
import Vapor
import WireModels

/// `/login.do` and `/logout.do`: web sign-in with database sessions, throttled failures and login CSRF
/// protection (a token both in a SameSite cookie and in the form).
struct SignInController: RouteCollection {
    static let loginTokenCookie = "desk_login_ck"

    struct SignInForm: Encodable, Sendable {
        let userName: String
        let goto: String
        let loginToken: String
        let error: String?
        let info: String?
        let options: [DeskSignInOption]
    }

    func boot(routes: any RoutesBuilder) throws {
        routes.get { request in
            let user = try request.requireWebUser()
            return request.seeOther(
                user.principal.hasAny(of: WebAccess.incidentsRead)
                    ? DeskPath.incidentList : user.isAdmin ? DeskPath.userList : DeskPath.welcome)
        }
        routes.get(DeskPath.welcome.pathComponents) { request in
            let user = try request.requireWebUser()
            return try await request.page(
                "message", title: "Welcome",
                Message(
                    heading: "Welcome, \(user.name)",
                    text: "Your account has no desk role yet. Ask a desk administrator for the role you need.",
                    link: nil))
        }
        routes.get(DeskPath.login.pathComponents) { request in
            if request.webUser != nil { return request.seeOther(Self.safeGoto(request.query["sysparm_goto"])) }
            let info = request.query[String.self, at: "sysparm_signed_out"] == "true" ? "You are signed out." : nil
            return try await Self.signInPage(
                request, userName: "", goto: Self.safeGoto(request.query["sysparm_goto"]), error: nil, info: info)
        }
        routes.on(.POST, DeskPath.login.pathComponents, body: .collect(maxSize: "64kb"), use: signIn).maxBodySize(
            "64kb")
        routes.form(DeskPath.logout.pathComponents, roles: nil) { request, _ in
            if let token = request.cookies[WebPageMiddleware.sessionCookie]?.string {
                try await WebSessionStore(sql: try request.sqlDatabase, now: request.desk.config.now()).delete(token)
            }
            let response = request.seeOther("/login.do?sysparm_signed_out=true")
            response.cookies[WebPageMiddleware.sessionCookie] = .expired
            return response
        }
    }

    private func signIn(_ request: Request) async throws -> Response {
        let fields = request.body.data.flatMap { FormBody.parse($0) } ?? [:]
        let userName = (fields["user_name"] ?? "").trimmingCharacters(in: .whitespaces)
        let goto = Self.safeGoto(fields["sysparm_goto"])
        guard let sent = fields["sysparm_ck"], let expected = request.cookies[Self.loginTokenCookie]?.string,
            WebForm.constantTimeEquals(sent, expected)
        else {
            request.logger.notice("Sign-in refused: missing or wrong login token")
            return try await Self.signInPage(
                request, userName: userName, goto: goto,
                error: "The sign-in form expired. Enter your user name and password again.", status: .forbidden)
        }
        let sql = try request.sqlDatabase
        let now = request.desk.config.now()
        let principal: DeskPrincipal
        switch try await request.desk.authenticator.checkPassword(
            userName: userName, password: fields["user_password"] ?? "", request: request)
        {
        case .accepted(let accepted):
            principal = accepted
        case .throttled(let wait):
            let response = try await Self.signInPage(
                request, userName: userName, goto: goto,
                error: "Too many failed sign-in attempts. Try again in \(SignInThrottle.minutesText(wait)).",
                status: .tooManyRequests)
            response.headers.replaceOrAdd(name: .retryAfter, value: SignInThrottle.retryAfterHeader(wait))
            return response
        case .refused:
            request.logger.notice("Sign-in failed", metadata: ["user": "\(userName.prefix(256))"])
            return try await Self.signInPage(
                request, userName: userName, goto: goto, error: "User name or password invalid.",
                status: .unauthorized)
        }
        guard !principal.webServiceAccessOnly else {
            request.logger.notice("Sign-in refused: web service access only", metadata: ["user": "\(userName)"])
            return try await Self.signInPage(
                request, userName: userName, goto: goto,
                error: "This account has web service access only: it can call the desk's APIs but cannot sign in "
                    + "to the web interface.",
                status: .forbidden)
        }
        let token = try await WebSessionStore(sql: sql, now: now).create(userId: principal.sysId)
        request.logger.info("Signed in", metadata: ["user": "\(userName)"])
        let response = request.seeOther(goto)
        response.cookies[WebPageMiddleware.sessionCookie] = HTTPCookies.Value(
            string: token, path: "/", isSecure: request.desk.config.endpoint.publicURLIsHTTPS,
            isHTTPOnly: true, sameSite: .lax)
        response.cookies[Self.loginTokenCookie] = HTTPCookies.Value(string: "", maxAge: 0, path: DeskPath.login)
        return response
    }

    static func signInPage(
        _ request: Request, userName: String, goto: String, error: String?, info: String? = nil,
        status: HTTPResponseStatus = .ok
    ) async throws -> Response {
        let loginToken = RandomToken.urlSafe(byteCount: 24)
        var options: [DeskSignInOption] = []
        for app in request.application.deskApps.all {
            do {
                options += try await app.signInOptions(request)
            } catch {
                request.logger.warning("An app's sign-in options failed", metadata: ["error": "\(error)"])
            }
        }
        let withGoto = options.map {
            DeskSignInOption(
                title: $0.title,
                path: $0.path + ($0.path.contains("?") ? "&" : "?") + "sysparm_goto="
                    + (goto.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? "/"))
        }
        let response = try await request.page(
            "login", title: "Sign in",
            SignInForm(
                userName: userName, goto: goto, loginToken: loginToken, error: error, info: info,
                options: withGoto),
            status: status)
        response.cookies[loginTokenCookie] = HTTPCookies.Value(
            string: loginToken, maxAge: 3600, path: DeskPath.login,
            isSecure: request.desk.config.endpoint.publicURLIsHTTPS, isHTTPOnly: true, sameSite: .strict)
        return response
    }

    /// Only paths on this desk: an absolute or protocol-relative URL would make sign-in an open redirect.
    static func safeGoto(_ value: String?) -> String {
        LocalRedirect.safePath(value) ?? "/"
    }
}

import Foundation
import SQLKit
import ServerSupport
import Vapor
import WireModels

/// The user signed in to the web UI for this request, with their session's CSRF token.
package struct WebUser: Sendable {
    let principal: DeskPrincipal
    package let csrfToken: String
    /// The identity provider's account the user signed in with (single sign-on), if they did.
    package var externalAccount: String? = nil

    package var sysId: String { principal.sysId }
    package var name: String { principal.name }
    package var userName: String { principal.userName }
    var isAdmin: Bool { principal.roles.contains(DeskRole.admin) }
    /// `admin` passes every check, as in ServiceNow.
    package func hasAny(of roles: Set<String>) -> Bool { principal.hasAny(of: roles) }
}

/// Failures of web pages; ``WebPageMiddleware`` turns them into pages (never ServiceNow's JSON envelope).
enum WebError: Error, Sendable {
    /// No session: go to the sign-in page and come back.
    case signInRequired
    /// Signed in, but the page needs a role the user lacks.
    case notAllowed
    /// The record or page does not exist.
    case notFound(String)
    /// A form came back without this session's CSRF token (expired, or sent by another site).
    case formExpired
}

/// Roles that open each part of the UI.
enum WebAccess {
    static let incidentsRead: Set<String> = [DeskRole.itil, M365SupportScope.insightsUser]
    static let incidentsWrite: Set<String> = [DeskRole.itil]
    static let admin: Set<String> = [DeskRole.admin]
}

/// What every page's frame shows: title, navigation, who is signed in and the CSRF token for its forms.
struct PageChrome: Encodable, Sendable {
    struct NavLink: Encodable, Sendable {
        let title: String
        let href: String
        let current: Bool
    }

    let title: String
    let userName: String?
    let displayName: String?
    let csrfToken: String?
    let nav: [NavLink]
    let adminNav: [NavLink]
    let notice: String?

    init(
        title: String, user: WebUser?, path: String = "", query: String? = nil, notice: String? = nil,
        appMenu: [DeskMenuEntry] = []
    ) {
        let address = query.map { "\(path)?\($0)" } ?? path
        self.title = title
        self.userName = user?.userName
        self.displayName = user?.name
        self.csrfToken = user?.csrfToken
        self.notice = notice
        func link(_ title: String, _ href: String) -> NavLink {
            // A link with a query is current only on exactly that page (`incident.do?sys_id=-1` is not every form).
            NavLink(title: title, href: href, current: href.contains("?") ? address == href : path == href)
        }
        var nav: [NavLink] = []
        if let user, user.principal.hasAny(of: WebAccess.incidentsRead) {
            nav.append(link("Incidents", DeskPath.incidentList))
        }
        if let user, user.principal.hasAny(of: WebAccess.incidentsWrite) {
            nav.append(link("Create new incident", DeskPath.new(DeskPath.incident)))
        }
        nav += appMenu.map { link($0.title, $0.path) }
        self.nav = nav
        self.adminNav =
            user?.isAdmin == true
            ? [
                link("Users", DeskPath.userList),
                link("Roles", DeskPath.roleList),
                link("Application Registry", DeskPath.oauthEntityList),
                link("Cross-scope privileges", DeskPath.scopePrivilegeList),
                link("System log", DeskPath.syslogList),
                link("Outbound HTTP log", DeskPath.outboundLogList),
            ] : []
    }
}

/// A page's context: its frame and its own content.
struct Page<Content: Encodable & Sendable>: Encodable, Sendable {
    let chrome: PageChrome
    let content: Content
}

extension Request {
    private struct WebUserKey: StorageKey {
        typealias Value = WebUser
    }

    /// The signed-in web user, if any (set by ``WebPageMiddleware``).
    var webUser: WebUser? {
        get { storage[WebUserKey.self] }
        set { storage[WebUserKey.self] = newValue }
    }

    /// The signed-in user holding one of `roles` (nil: any signed-in user).
    package func requireWebUser(_ roles: Set<String>? = nil) throws -> WebUser {
        guard let user = webUser else { throw WebError.signInRequired }
        if let roles, !user.principal.hasAny(of: roles) { throw WebError.notAllowed }
        return user
    }

    var sqlDatabase: any SQLDatabase {
        get throws {
            guard let sql = db as? any SQLDatabase else { throw DeskError.internalError }
            return sql
        }
    }

    /// Renders `template` with `content` inside the page frame (apps' pages too).
    package func page<Content: Encodable & Sendable>(
        _ template: String, title: String, _ content: Content, status: HTTPResponseStatus = .ok,
        notice: String? = nil
    ) async throws -> Response {
        let chrome = PageChrome(
            title: title, user: webUser, path: url.path, query: url.query, notice: notice ?? pendingNotice,
            appMenu: webUser.map { application.deskApps.menu(for: $0.principal) } ?? [])
        return try await view.render(template, Page(chrome: chrome, content: content))
            .encodeResponse(status: status, for: self)
    }

    /// A 303 to `location` after a form: the browser then GETs it, so a reload never re-sends the form.
    /// `notice` is shown once on the next page (carried in a short-lived cookie, never in the URL, so a link
    /// cannot put words in the desk's mouth).
    package func seeOther(_ location: String, notice: String? = nil) -> Response {
        let response = Response(status: .seeOther, headers: ["Location": location])
        if let notice {
            response.cookies[WebPageMiddleware.noticeCookie] = HTTPCookies.Value(
                string: Data(notice.utf8).base64URLEncodedString(), maxAge: 60, path: "/",
                isSecure: desk.config.endpoint.publicURLIsHTTPS, isHTTPOnly: true, sameSite: .lax)
        }
        return response
    }

    private struct NoticeKey: StorageKey {
        typealias Value = String
    }

    /// The notice a previous form left for this page.
    var pendingNotice: String? {
        get { storage[NoticeKey.self] }
        set { storage[NoticeKey.self] = newValue }
    }
}

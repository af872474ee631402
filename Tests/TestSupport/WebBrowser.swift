import Foundation
import TestSupport
import Vapor
import VaporTesting

/// A minimal browser for the desk's web page tests: keeps cookies, reads CSRF tokens from pages, posts forms.
package final class WebBrowser {
    package let app: Application
    package private(set) var cookies: [String: String] = [:]

    package init(_ app: Application) {
        self.app = app
    }

    package func get(_ path: String) async throws -> TestingHTTPResponse {
        let response = try await app.testing().sendRequest(.GET, path, headers: cookieHeaders())
        keepCookies(response)
        return response
    }

    package func post(_ path: String, _ fields: [(String, String)]) async throws -> TestingHTTPResponse {
        var headers = cookieHeaders()
        headers.contentType = .urlEncodedForm
        let body = fields.map { "\(Self.encode($0.0))=\(Self.encode($0.1))" }.joined(separator: "&")
        let response = try await app.testing().sendRequest(
            .POST, path, headers: headers, body: ByteBuffer(string: body))
        keepCookies(response)
        return response
    }

    /// Posts a form of a page after reading the page's CSRF token.
    package func submit(_ page: String, to path: String, _ fields: [(String, String)]) async throws
        -> TestingHTTPResponse
    {
        let token = try Self.csrfToken(in: try await get(page))
        return try await post(path, [("sysparm_ck", token)] + fields)
    }

    @discardableResult
    package func signIn(_ user: String, password: String) async throws -> TestingHTTPResponse {
        let token = try Self.csrfToken(in: try await get("/login.do"))
        return try await post(
            "/login.do",
            [("sysparm_ck", token), ("user_name", user), ("user_password", password)])
    }

    package static func csrfToken(in page: TestingHTTPResponse) throws -> String {
        let html = page.body.string
        guard let match = html.firstMatch(of: /name="sysparm_ck" value="([^"]+)"/) else {
            throw TestFailure("no CSRF token on the page (status \(page.status.code))")
        }
        return String(match.1)
    }

    private func cookieHeaders() -> HTTPHeaders {
        guard !cookies.isEmpty else { return [:] }
        return ["Cookie": cookies.map { "\($0.key)=\($0.value)" }.joined(separator: "; ")]
    }

    private func keepCookies(_ response: TestingHTTPResponse) {
        for header in response.headers[.setCookie] {
            let pair = header.split(separator: ";")[0].split(separator: "=", maxSplits: 1)
            let name = String(pair[0])
            let value = pair.count > 1 ? String(pair[1]) : ""
            if value.isEmpty || header.contains("Max-Age=0") || header.contains("1970") {
                cookies[name] = nil
            } else {
                cookies[name] = value
            }
        }
    }

    private static func encode(_ text: String) -> String {
        var allowed = CharacterSet.alphanumerics
        allowed.insert(charactersIn: "-._~")
        return text.addingPercentEncoding(withAllowedCharacters: allowed) ?? ""
    }
}

extension TestingHTTPResponse {
    package var location: String? { headers.first(name: .location) }
    package var html: String { body.string }
}

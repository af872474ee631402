import Foundation
import Vapor

/// The form fields of a token request. Unknown fields (MSAL's `client_info`, `claims`, …) are ignored.
struct TokenForm: Content {
    var grantType: String?
    var clientId: String?
    var clientSecret: String?
    var resource: String?
    var scope: String?
    var code: String?
    var redirectUri: String?
    var codeVerifier: String?
    var refreshToken: String?
    var clientAssertionType: String?
    var clientAssertion: String?

    enum CodingKeys: String, CodingKey {
        case grantType = "grant_type"
        case clientId = "client_id"
        case clientSecret = "client_secret"
        case resource, scope, code
        case redirectUri = "redirect_uri"
        case codeVerifier = "code_verifier"
        case refreshToken = "refresh_token"
        case clientAssertionType = "client_assertion_type"
        case clientAssertion = "client_assertion"
    }

    /// Reads the body as a form. Any other body counts as empty, so the answer names the first missing field.
    static func decode(from request: Request) throws -> TokenForm {
        guard request.headers.contentType == .urlEncodedForm else { return TokenForm() }
        do {
            var form = try request.content.decode(TokenForm.self)
            if let (id, secret) = basicCredentials(request) {
                if let formId = form.clientId, formId.lowercased() != id.lowercased() {
                    throw IdentityError.malformedRequest
                }
                form.clientId = id
                form.clientSecret = secret
            }
            return form
        } catch let error as IdentityError {
            throw error
        } catch {
            throw IdentityError.malformedRequest
        }
    }

    /// RFC 6749 §2.3.1: client ID and secret form-urlencoded, then joined by `:` in HTTP Basic.
    private static func basicCredentials(_ request: Request) -> (String, String)? {
        guard let basic = request.headers.basicAuthorization else { return nil }
        let id = basic.username.removingPercentEncoding ?? basic.username
        let secret = basic.password.removingPercentEncoding ?? basic.password
        return (id, secret)
    }

    init() {}
}

extension Optional where Wrapped == String {
    /// The value, or AADSTS900144 naming the missing parameter.
    func required(_ name: String) throws -> String {
        guard let value = self?.trimmingCharacters(in: .whitespaces), !value.isEmpty else {
            throw IdentityError.missingParameter(name)
        }
        return value
    }
}

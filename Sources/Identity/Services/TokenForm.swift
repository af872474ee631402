import Foundation
import ServerSupport
import Vapor

/// The form fields of a token request. Unknown fields (MSAL's `client_info`, `claims`, …) are ignored.
struct TokenForm {
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

    /// Reads the body as a form. Any other body counts as empty, so the answer names the first missing field.
    static func decode(from request: Request) throws -> TokenForm {
        // Compared as text: parsing the media type costs more than the whole form.
        guard let contentType = request.headers.first(name: .contentType),
            contentType.lowercased().hasPrefix("application/x-www-form-urlencoded")
        else { return TokenForm() }
        guard let body = request.body.data, let fields = FormBody.parse(body) else {
            if request.body.data == nil { return TokenForm() }
            throw IdentityError.malformedRequest
        }
        var form = TokenForm(fields)
        if let (id, secret) = basicCredentials(request) {
            if let formId = form.clientId, formId.lowercased() != id.lowercased() {
                throw IdentityError.malformedRequest
            }
            form.clientId = id
            form.clientSecret = secret
        }
        return form
    }

    init(_ fields: [String: String]) {
        grantType = fields["grant_type"]
        clientId = fields["client_id"]
        clientSecret = fields["client_secret"]
        resource = fields["resource"]
        scope = fields["scope"]
        code = fields["code"]
        redirectUri = fields["redirect_uri"]
        codeVerifier = fields["code_verifier"]
        refreshToken = fields["refresh_token"]
        clientAssertionType = fields["client_assertion_type"]
        clientAssertion = fields["client_assertion"]
    }

    /// RFC 6749 §2.3.1: client ID and secret form-urlencoded, then joined by `:` in HTTP Basic.
    private static func basicCredentials(_ request: Request) -> (String, String)? {
        guard let basic = request.headers.basicAuthorization else { return nil }
        let id = basic.username.removingPercentEncoding ?? basic.username
        let secret = basic.password.removingPercentEncoding ?? basic.password
        return (id, secret)
    }

    init() { self.init([:]) }
}

extension Optional where Wrapped == String {
    /// The value, or AADSTS900144 naming the missing parameter.
    func required(_ name: String) throws -> String {
        guard let value = self, value.utf8.contains(where: { $0 != UInt8(ascii: " ") && $0 != UInt8(ascii: "\t") })
        else { throw IdentityError.missingParameter(name) }
        return value
    }
}

import Foundation

/// Token response of the v1 endpoint (`/{tenant}/oauth2/token`). Entra sends every number as a string.
package struct TokenResponseV1: Codable, Sendable, Equatable {
    package var tokenType: String
    package var expiresIn: String
    package var extExpiresIn: String
    package var expiresOn: String
    package var notBefore: String
    package var resource: String
    package var accessToken: String
    package var scope: String?
    package var refreshToken: String?
    package var idToken: String?

    package init(
        tokenType: String = "Bearer", expiresIn: String, extExpiresIn: String, expiresOn: String,
        notBefore: String, resource: String, accessToken: String, scope: String? = nil,
        refreshToken: String? = nil, idToken: String? = nil
    ) {
        self.tokenType = tokenType
        self.expiresIn = expiresIn
        self.extExpiresIn = extExpiresIn
        self.expiresOn = expiresOn
        self.notBefore = notBefore
        self.resource = resource
        self.accessToken = accessToken
        self.scope = scope
        self.refreshToken = refreshToken
        self.idToken = idToken
    }

    enum CodingKeys: String, CodingKey {
        case tokenType = "token_type"
        case expiresIn = "expires_in"
        case extExpiresIn = "ext_expires_in"
        case expiresOn = "expires_on"
        case notBefore = "not_before"
        case resource
        case accessToken = "access_token"
        case scope
        case refreshToken = "refresh_token"
        case idToken = "id_token"
    }
}

/// Token response of the v2 endpoint (`/{tenant}/oauth2/v2.0/token`); numbers are numbers.
package struct TokenResponseV2: Codable, Sendable, Equatable {
    package var tokenType: String
    package var expiresIn: Int
    package var extExpiresIn: Int
    package var accessToken: String
    package var scope: String?
    package var refreshToken: String?
    package var idToken: String?

    package init(
        tokenType: String = "Bearer", expiresIn: Int, extExpiresIn: Int, accessToken: String,
        scope: String? = nil, refreshToken: String? = nil, idToken: String? = nil
    ) {
        self.tokenType = tokenType
        self.expiresIn = expiresIn
        self.extExpiresIn = extExpiresIn
        self.accessToken = accessToken
        self.scope = scope
        self.refreshToken = refreshToken
        self.idToken = idToken
    }

    enum CodingKeys: String, CodingKey {
        case tokenType = "token_type"
        case expiresIn = "expires_in"
        case extExpiresIn = "ext_expires_in"
        case accessToken = "access_token"
        case scope
        case refreshToken = "refresh_token"
        case idToken = "id_token"
    }
}

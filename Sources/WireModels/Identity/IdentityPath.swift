import Foundation

/// Identity's public paths, declared once for routes, discovery documents, tests and clients.
package enum IdentityPath {
    package static func v1Token(tenant: String) -> String { "/\(tenant)/oauth2/token" }
    package static func v2Token(tenant: String) -> String { "/\(tenant)/oauth2/v2.0/token" }
    package static func v1Authorize(tenant: String) -> String { "/\(tenant)/oauth2/authorize" }
    package static func v2Authorize(tenant: String) -> String { "/\(tenant)/oauth2/v2.0/authorize" }
    package static func v1Logout(tenant: String) -> String { "/\(tenant)/oauth2/logout" }
    package static func v2Logout(tenant: String) -> String { "/\(tenant)/oauth2/v2.0/logout" }
    package static func v1Discovery(tenant: String) -> String { "/\(tenant)/.well-known/openid-configuration" }
    package static func v2Discovery(tenant: String) -> String { "/\(tenant)/v2.0/.well-known/openid-configuration" }
    package static func v1Keys(tenant: String) -> String { "/\(tenant)/discovery/keys" }
    package static func v2Keys(tenant: String) -> String { "/\(tenant)/discovery/v2.0/keys" }
    package static func userInfo(tenant: String) -> String { "/\(tenant)/openid/userinfo" }
    /// v1 issuer, as `https://sts.windows.net/{tid}/` is for Entra.
    package static func v1Issuer(tenantId: String) -> String { "/\(tenantId)/" }
    package static func v2Issuer(tenantId: String) -> String { "/\(tenantId)/v2.0" }

    package static let graphVersion = "v1.0"
    package static let adminAPI = "admin/api"
    package static let health = "healthz"
}

import Foundation
import Vapor

/// Identity's app-wide services, stored once in `app.storage` by ``configure(_:config:)``.
package struct IdentityContext: Sendable {
    package let config: IdentityConfig
    package let keyRing: SigningKeyRing
    package let directoryCache: DirectoryCache
    package let issuer: IssuerURLs
}

/// Issuer and endpoint URLs of a tenant, derived from the public base URL.
package struct IssuerURLs: Sendable {
    package let baseURL: String

    package func v1Issuer(tenantId: String) -> String { baseURL + "/\(tenantId)/" }
    package func v2Issuer(tenantId: String) -> String { baseURL + "/\(tenantId)/v2.0" }
    package func url(_ path: String) -> String { baseURL + path }
}

extension Application {
    private struct IdentityContextKey: StorageKey {
        typealias Value = IdentityContext
    }

    package var identity: IdentityContext {
        get {
            guard let context = storage[IdentityContextKey.self] else {
                fatalError("Identity is not configured: call configure(_:config:) first")
            }
            return context
        }
        set { storage[IdentityContextKey.self] = newValue }
    }
}

extension Request {
    var identity: IdentityContext { application.identity }
}

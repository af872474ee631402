import Foundation
import WireModels

/// A v2 `scope` parameter split into OpenID scopes and the permissions asked of one resource.
struct ScopeRequest: Equatable {
    static let openIDScopes: Set<String> = ["openid", "profile", "email", "offline_access"]

    var openID: [String]
    /// The resource's identifier as the client wrote it (App ID URI or appId); Graph for bare permission names.
    var resource: String?
    var permissions: [String]

    var wantsRefreshToken: Bool { openID.contains("offline_access") }
    var wantsIDToken: Bool { openID.contains("openid") }

    /// Parses `scope`. Permissions of two different resources in one request are refused (AADSTS70011).
    static func parse(_ scope: String) throws -> ScopeRequest {
        var request = ScopeRequest(openID: [], resource: nil, permissions: [])
        for item in scope.split(whereSeparator: { $0 == " " || $0 == "+" }).map(String.init) {
            if openIDScopes.contains(item.lowercased()) {
                request.openID.append(item.lowercased())
                continue
            }
            let resource: String
            let permission: String
            if let slash = item.lastIndex(of: "/"),
                item.contains("://") || UUID(uuidString: String(item[..<slash])) != nil
            {
                resource = String(item[..<slash])
                permission = String(item[item.index(after: slash)...])
            } else if !item.contains("/") {
                resource = MicrosoftGraphResource.identifierURI
                permission = item
            } else {
                throw IdentityError.invalidScope(scope)
            }
            guard !permission.isEmpty, !resource.isEmpty else { throw IdentityError.invalidScope(scope) }
            if let existing = request.resource, existing.lowercased() != resource.lowercased() {
                throw IdentityError.invalidScope(scope)
            }
            request.resource = resource
            request.permissions.append(permission)
        }
        return request
    }

    /// The `scope` parameter of a client-credentials request: exactly one `{resource}/.default`.
    static func clientCredentialsResource(_ scope: String) throws -> String {
        let items = scope.split(separator: " ").map(String.init)
        guard items.count == 1, let item = items.first else { throw IdentityError.invalidScope(scope) }
        guard item.hasSuffix("/.default") else { throw IdentityError.scopeWithoutDefault(scope) }
        let resource = String(item.dropLast("/.default".count))
        guard !resource.isEmpty else { throw IdentityError.invalidScope(scope) }
        return resource
    }
}

import Fluent
import Foundation
import WireModels

/// Entra's delegated permission model: a user's token for a resource carries only permissions someone with
/// the right to do so consented to — an administrator for the whole tenant (`AllPrincipals`), or the user for
/// themselves (`Principal`, and only for permissions that do not need an administrator).
struct DelegatedConsent {
    let database: any Database

    /// What a request asks of one resource, checked against what the resource exposes.
    struct Request: Sendable {
        let resource: TenantDirectory.App
        /// The resource as the client named it (App ID URI or appId).
        let requestedAs: String
        /// Permission values as the resource spells them, without `.default`.
        let permissions: [String]
        /// `.default`: every permission granted, and at consent every permission the client requires.
        let wantsDefault: Bool
    }

    /// Resolves a `scope` (and v1 `resource`) against the tenant: the resource must exist (AADSTS500011) and
    /// expose every permission named (AADSTS650053). A sign-in that names no permission asks Graph's
    /// `User.Read`, as Entra's "sign you in and read your profile".
    static func resolve(
        _ scope: ScopeRequest, v1Resource: String?, tenant: TenantDirectory, client: TenantDirectory.App
    ) throws -> Request {
        let requestedAs = v1Resource ?? scope.resource ?? MicrosoftGraphResource.identifierURI
        let resource = try tenant.resource(named: requestedAs)
        let wantsDefault = scope.permissions.contains { $0.caseInsensitiveCompare(".default") == .orderedSame }
        var named: [String] = []
        for permission in scope.permissions where permission.caseInsensitiveCompare(".default") != .orderedSame {
            guard let exposed = resource.exposedScope(permission) else {
                throw IdentityError.scopeNotExposed(permission, client: client.displayName, resource: resource.appId)
            }
            if !named.contains(exposed.value) { named.append(exposed.value) }
        }
        if named.isEmpty, !wantsDefault {
            if resource.appId == MicrosoftGraphResource.appId {
                named = ["User.Read"]
            } else {
                return Request(resource: resource, requestedAs: requestedAs, permissions: [], wantsDefault: true)
            }
        }
        return Request(resource: resource, requestedAs: requestedAs, permissions: named, wantsDefault: wantsDefault)
    }

    /// Permissions the user must have consent for before a code is issued.
    static func needed(_ request: Request, client: TenantDirectory.App) -> [String] {
        guard request.wantsDefault else { return request.permissions }
        var needed = request.permissions
        for value in client.requiredScopes(of: request.resource) {
            if let exposed = request.resource.exposedScope(value), !needed.contains(exposed.value) {
                needed.append(exposed.value)
            }
        }
        return needed
    }

    /// Permissions of `resource` granted to `client` for this user: the tenant-wide ones and the user's own.
    func granted(client: TenantDirectory.App, resource: TenantDirectory.App, userID: UUID) async throws -> Set<String> {
        let grants = try await DelegatedPermissionGrant.query(on: database)
            .filter(\.$clientApp.$id == client.id).filter(\.$resourceApp.$id == resource.id).all()
        var granted = Set<String>()
        for grant in grants
        where grant.consentType == DelegatedPermissionGrant.ConsentType.allPrincipals.rawValue
            || grant.$principal.id == userID
        {
            granted.formUnion(grant.scopes)
        }
        return granted
    }

    /// The permissions a token may carry (`scp`): what was asked, if all of it is granted, or everything granted
    /// for `.default`. Anything asked without consent is AADSTS65001, as is `.default` with nothing granted.
    func permissions(for request: Request, client: TenantDirectory.App, userID: UUID) async throws -> [String] {
        let granted = try await granted(client: client, resource: request.resource, userID: userID)
        let missing = request.permissions.filter { !granted.contains($0) }
        guard missing.isEmpty else {
            throw IdentityError.consentRequired(client: client.appId, name: client.displayName, missing: missing)
        }
        let permissions = request.wantsDefault ? Array(granted).sorted() : request.permissions
        guard !permissions.isEmpty else {
            throw IdentityError.consentRequired(
                client: client.appId, name: client.displayName, missing: [request.requestedAs + "/.default"])
        }
        return permissions
    }

    /// Of `permissions`, those only an administrator may consent to.
    static func adminOnly(_ permissions: [String], of resource: TenantDirectory.App) -> [String] {
        permissions.filter { resource.exposedScope($0)?.adminConsentRequired ?? true }
    }

    /// Records consent, adding to the grant of the same client, resource and principal if there is one.
    @discardableResult
    func record(
        client: UUID, resource: UUID, permissions: [String], principal: UUID?
    ) async throws -> DelegatedPermissionGrant {
        let type: DelegatedPermissionGrant.ConsentType = principal == nil ? .allPrincipals : .principal
        let query = DelegatedPermissionGrant.query(on: database)
            .filter(\.$clientApp.$id == client).filter(\.$resourceApp.$id == resource)
            .filter(\.$consentType == type.rawValue)
        if let principal { query.filter(\.$principal.$id == principal) }
        if let existing = try await query.first() {
            var scopes = existing.scopes
            for permission in permissions where !scopes.contains(permission) { scopes.append(permission) }
            existing.scope = scopes.joined(separator: " ")
            try await existing.save(on: database)
            return existing
        }
        let grant = DelegatedPermissionGrant(
            clientAppID: client, resourceAppID: resource, consentType: type, principalID: principal,
            scope: permissions.joined(separator: " "))
        try await grant.create(on: database)
        return grant
    }
}

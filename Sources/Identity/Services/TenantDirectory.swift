import Fluent
import Foundation
import Synchronization
import WireModels

/// One tenant's app registrations, client secrets and app-role grants, read once and shared by the
/// token requests that follow: the token endpoints then touch no database at all for the client side.
struct TenantDirectory: Sendable {
    struct App: Sendable {
        let id: UUID
        let appId: String
        let servicePrincipalId: String
        let displayName: String
        let redirectURIs: [String]
        let identifierURIs: [String]
        let accessTokenVersion: Int
        let appRoleAssignmentRequired: Bool
        let secrets: [Secret]
        /// Delegated permissions the app exposes as a resource.
        let exposedScopes: [IdentityAdmin.ExposedScope]
        /// Permissions the app requires of resources (resources by appId).
        let requiredResourceAccess: [IdentityAdmin.RequiredAccess]

        func isNamed(_ identifier: String) -> Bool {
            AppRegistration.identifier(identifier, names: appId, identifierURIs: identifierURIs)
        }

        /// A public client has no secret: it cannot keep one (a desktop, mobile or single-page app).
        var isPublicClient: Bool { secrets.isEmpty }

        /// The exposed permission `value` names, matched case-insensitively as Entra does.
        func exposedScope(_ value: String) -> IdentityAdmin.ExposedScope? {
            exposedScopes.first { $0.value.caseInsensitiveCompare(value) == .orderedSame }
        }

        /// Delegated permissions this app (as a client) requires of `resource`.
        func requiredScopes(of resource: App) -> [String] {
            requiredResourceAccess.filter { $0.resource == resource.appId }.flatMap { $0.scopes ?? [] }
        }
    }

    struct Secret: Sendable {
        let digest: String
        let expiresAt: Date
    }

    private struct GrantKey: Hashable {
        let client: UUID
        let resource: UUID
    }

    let tenantID: UUID
    /// Lowercase GUID, as in tokens.
    let tenantId: String
    let domains: [String]
    private let appsByAppId: [String: App]
    private let roles: [GrantKey: [String]]

    var primaryDomain: String { Tenant.primaryDomain(among: domains) ?? tenantId }

    func app(clientId: String) -> App? { appsByAppId[clientId.lowercased()] }

    /// Whether any app of the tenant registered `uri` as a redirect URI (exact match).
    func hasRedirectURI(_ uri: String) -> Bool {
        appsByAppId.values.contains { $0.redirectURIs.contains(uri) }
    }

    /// The app named by appId or identifier URI, or AADSTS500011.
    func resource(named identifier: String) throws -> App {
        if let app = appsByAppId[identifier.lowercased()] { return app }
        guard let app = appsByAppId.values.first(where: { $0.isNamed(identifier) }) else {
            throw IdentityError.resourceNotFound(identifier, tenant: primaryDomain)
        }
        return app
    }

    /// App roles of `resource` granted to `client`, sorted.
    func grantedRoles(client: App, resource: App) -> [String] {
        roles[GrantKey(client: client.id, resource: resource.id)] ?? []
    }

    static func load(_ tenant: Tenant, on database: any Database) async throws -> TenantDirectory {
        let tenantID = try tenant.requireID()
        let domains = try await TenantDomain.query(on: database).filter(\.$tenant.$id == tenantID).all()
        let apps = try await AppRegistration.query(on: database).filter(\.$tenant.$id == tenantID).all()
        let appIDs = try apps.map { try $0.requireID() }
        let secrets = try await ClientSecret.query(on: database).filter(\.$app.$id ~~ appIDs).all()
        let grants = try await AppRoleGrant.query(on: database).filter(\.$clientApp.$id ~~ appIDs).all()

        let secretsByApp = Dictionary(grouping: secrets, by: { $0.$app.id })
        var appsByAppId: [String: App] = [:]
        for app in apps {
            let id = try app.requireID()
            appsByAppId[app.appId] = App(
                id: id, appId: app.appId, servicePrincipalId: app.servicePrincipalId.uuidString.lowercased(),
                displayName: app.displayName, redirectURIs: app.redirectURIs, identifierURIs: app.identifierURIs,
                accessTokenVersion: app.accessTokenVersion, appRoleAssignmentRequired: app.appRoleAssignmentRequired,
                secrets: (secretsByApp[id] ?? []).map { Secret(digest: $0.secretDigest, expiresAt: $0.expiresAt) },
                exposedScopes: app.exposedScopes, requiredResourceAccess: app.requiredResourceAccess)
        }
        var roles: [GrantKey: [String]] = [:]
        for grant in grants {
            roles[GrantKey(client: grant.$clientApp.id, resource: grant.$resourceApp.id), default: []].append(
                grant.role)
        }
        return TenantDirectory(
            tenantID: tenantID, tenantId: tenant.tenantId, domains: domains.map(\.name).sorted(),
            appsByAppId: appsByAppId, roles: roles.mapValues { $0.sorted() })
    }
}

/// Keeps each tenant's ``TenantDirectory`` for `lifetime` seconds.
///
/// Writes through ``DirectoryAdmin`` in this process clear it at once; other instances and the CLI's
/// changes show within `lifetime` (default 5 s), like the propagation delay Entra has.
package final class DirectoryCache: Sendable {
    private struct Entry {
        let directory: TenantDirectory
        let loadedAt: Date
    }

    private let entries = Mutex<[String: Entry]>([:])
    private let lifetime: TimeInterval
    private let now: @Sendable () -> Date

    package init(lifetime: TimeInterval = 5, now: @escaping @Sendable () -> Date) {
        self.lifetime = lifetime
        self.now = now
    }

    /// The directory of the tenant named by GUID or domain, or AADSTS90002. `database` is only opened on a miss.
    func directory(_ identifier: String, on database: () -> any Database) async throws -> TenantDirectory {
        let key = identifier.lowercased()
        let current = now()
        if let entry = entries.withLock({ $0[key] }), entry.loadedAt.distance(to: current) < lifetime,
            entry.loadedAt <= current
        {
            return entry.directory
        }
        let database = database()
        let tenant = try await Tenant.require(identifier, on: database)
        let directory = try await TenantDirectory.load(tenant, on: database)
        let entry = Entry(directory: directory, loadedAt: current)
        entries.withLock { entries in
            for name in [key, directory.tenantId] + directory.domains { entries[name] = entry }
        }
        return directory
    }

    package func invalidateAll() {
        entries.withLock { $0.removeAll() }
    }
}

import Fluent
import Foundation
import ServerSupport
import Vapor
import WireModels

/// Managing the directory: tenants, users, roles, app registrations, secrets and app-role grants.
/// The admin API, the CLI and the demo seed all go through here.
package struct DirectoryAdmin: Sendable {
    package let database: any Database
    package let now: @Sendable () -> Date
    /// bcrypt, run off the event loop when a server calls.
    package let hashPassword: @Sendable (String) async throws -> String
    /// The serving process's cache, cleared after every change; nil in the CLI, whose changes a server
    /// picks up within the cache lifetime.
    package let cache: DirectoryCache?

    package init(
        database: any Database, now: @escaping @Sendable () -> Date = { Date() }, cache: DirectoryCache? = nil,
        hashPassword: @escaping @Sendable (String) async throws -> String
    ) {
        self.database = database
        self.now = now
        self.cache = cache
        self.hashPassword = hashPassword
    }

    // MARK: Tenants

    package func createTenant(_ input: IdentityAdmin.CreateTenant) async throws -> IdentityAdmin.Tenant {
        defer { cache?.invalidateAll() }
        let name = input.name.trimmingCharacters(in: .whitespaces)
        let domains = input.domains.map { $0.trimmingCharacters(in: .whitespaces).lowercased() }.filter { !$0.isEmpty }
        guard !name.isEmpty else { throw Abort(.badRequest, reason: "A tenant needs a name.") }
        guard !domains.isEmpty, domains.allSatisfy(Self.isDomainName) else {
            throw Abort(
                .badRequest, reason: "A tenant needs at least one domain name, such as contoso.onmicrosoft.com.")
        }
        let id =
            try input.id.map { text -> UUID in
                guard let id = UUID(uuidString: text) else {
                    throw Abort(.badRequest, reason: "The tenant ID must be a GUID.")
                }
                return id
            } ?? UUID()
        if try await TenantDomain.query(on: database).filter(\.$name ~~ domains).first() != nil {
            throw Abort(
                .conflict, reason: "One of the domains \(domains.joined(separator: ", ")) already belongs to a tenant.")
        }
        if try await Tenant.find(id, on: database) != nil {
            throw Abort(.conflict, reason: "A tenant with ID \(id.uuidString.lowercased()) already exists.")
        }
        try await database.transaction { db in
            try await Tenant(id: id, name: name).create(on: db)
            for domain in domains { try await TenantDomain(tenantID: id, name: domain).create(on: db) }
            try await AppRegistration(
                tenantID: id, appId: MicrosoftGraphResource.appId, displayName: MicrosoftGraphResource.displayName,
                identifierURIs: [MicrosoftGraphResource.identifierURI], appRoles: MicrosoftGraphResource.Role.all
            ).create(on: db)
        }
        return IdentityAdmin.Tenant(id: id.uuidString.lowercased(), name: name, domains: domains)
    }

    package func listTenants() async throws -> [IdentityAdmin.Tenant] {
        try await Tenant.query(on: database).with(\.$domains).sort(\.$name).all().map {
            IdentityAdmin.Tenant(id: $0.tenantId, name: $0.name, domains: $0.domains.map(\.name))
        }
    }

    // MARK: Users

    package func createUser(tenant identifier: String, _ input: IdentityAdmin.CreateUser) async throws
        -> IdentityAdmin.User
    {
        defer { cache?.invalidateAll() }
        let tenant = try await requireTenant(identifier)
        let upn = input.userPrincipalName.trimmingCharacters(in: .whitespaces).lowercased()
        let domains = try await tenant.$domains.query(on: database).all().map(\.name)
        guard let at = upn.firstIndex(of: "@"), at != upn.startIndex,
            domains.contains(String(upn[upn.index(after: at)...]))
        else {
            throw Abort(
                .badRequest,
                reason:
                    "The user principal name must be name@domain with one of the tenant's domains (\(domains.joined(separator: ", ")))."
            )
        }
        if try await DirectoryUser.query(on: database).filter(\.$tenant.$id == tenant.requireID())
            .filter(\.$userPrincipalName == upn).first() != nil
        {
            throw Abort(.conflict, reason: "A user \(upn) already exists in the tenant.")
        }
        let generated = input.password == nil ? RandomToken.password() : nil
        let password = input.password ?? generated ?? ""
        guard password.count >= 8 else { throw Abort(.badRequest, reason: "Passwords need at least 8 characters.") }
        if let violation = PasswordRules.violation(password) { throw Abort(.badRequest, reason: violation.description) }
        let user = DirectoryUser(
            tenantID: try tenant.requireID(), userPrincipalName: upn, displayName: input.displayName,
            mail: input.mail ?? upn, passwordHash: try await hashPassword(password),
            accountEnabled: input.accountEnabled ?? true)
        try await user.create(on: database)
        var dto = try await userDTO(user)
        dto.password = generated
        return dto
    }

    package func assignRole(tenant identifier: String, user key: String, role name: String) async throws
        -> IdentityAdmin.User
    {
        defer { cache?.invalidateAll() }
        let tenant = try await requireTenant(identifier)
        guard let template = DirectoryRoleTemplate.find(name) else {
            throw Abort(
                .badRequest,
                reason:
                    "Unknown directory role '\(name)'. Known roles: \(DirectoryRoleTemplate.all.map(\.displayName).joined(separator: ", "))."
            )
        }
        let user = try await requireUser(key, in: tenant)
        let exists =
            try await user.$roleAssignments.query(on: database)
            .filter(\.$roleTemplateId == template.templateId).first() != nil
        if !exists {
            try await DirectoryRoleAssignment(userID: user.requireID(), roleTemplateId: template.templateId).create(
                on: database)
        }
        return try await userDTO(user)
    }

    // MARK: Apps

    package func createApp(tenant identifier: String, _ input: IdentityAdmin.CreateApp) async throws
        -> IdentityAdmin.App
    {
        defer { cache?.invalidateAll() }
        let tenant = try await requireTenant(identifier)
        let name = input.displayName.trimmingCharacters(in: .whitespaces)
        guard !name.isEmpty else { throw Abort(.badRequest, reason: "An app needs a display name.") }
        let version = input.accessTokenVersion ?? 1
        guard version == 1 || version == 2 else {
            throw Abort(.badRequest, reason: "accessTokenVersion must be 1 or 2.")
        }
        for uri in input.redirectUris ?? [] where !Self.isRedirectURI(uri) {
            throw Abort(
                .badRequest,
                reason: "Redirect URI '\(uri.prefix(200))' is not an absolute http(s) or custom-scheme URI without "
                    + "spaces, control characters, backslashes or a fragment.")
        }
        var exposed: [IdentityAdmin.ExposedScope] = []
        for scope in input.exposedScopes ?? [] {
            guard Self.isPermissionValue(scope.value) else {
                throw Abort(.badRequest, reason: "'\(scope.value.prefix(100))' is not a valid permission value.")
            }
            if !exposed.contains(where: { $0.value.caseInsensitiveCompare(scope.value) == .orderedSame }) {
                exposed.append(scope)
            }
        }
        let required = try await resolveRequiredAccess(input.requiredResourceAccess ?? [], in: tenant)
        let appId = UUID().uuidString.lowercased()
        let app = AppRegistration(
            tenantID: try tenant.requireID(), appId: appId, displayName: name, redirectURIs: input.redirectUris ?? [],
            identifierURIs: input.identifierUris.flatMap { $0.isEmpty ? nil : $0 }, appRoles: input.appRoles ?? [],
            accessTokenVersion: version, appRoleAssignmentRequired: input.appRoleAssignmentRequired ?? false)
        if !exposed.isEmpty { app.exposedScopes = exposed }
        if !required.isEmpty { app.requiredResourceAccess = required }
        try await app.create(on: database)
        var dto = app.toAdmin()
        if input.withSecret ?? true {
            let secret = try await addSecret(to: app, IdentityAdmin.AddSecret(displayName: "Initial secret"))
            dto.secret = secret.secret
            dto.secretId = secret.secretId
            dto.secretExpiresAt = secret.expiresAt
        }
        return dto
    }

    /// The tenant's app whose app ID or identifier URI is `resource`, if any.
    package func findApp(tenant identifier: String, resource: String) async throws -> IdentityAdmin.App? {
        let tenant = try await requireTenant(identifier)
        return (try? await AppRegistration.resource(named: resource, in: tenant, on: database))?.toAdmin()
    }

    /// The tenant itself: its ID, name and domains.
    package func tenant(_ identifier: String) async throws -> IdentityAdmin.Tenant {
        let tenant = try await requireTenant(identifier)
        let domains = try await tenant.$domains.query(on: database).all().map(\.name)
        return IdentityAdmin.Tenant(id: tenant.tenantId, name: tenant.name, domains: domains)
    }

    /// Adds a redirect URI to an app (kept once); the app as it is now.
    package func addRedirectURI(tenant identifier: String, app appId: String, _ input: IdentityAdmin.AddRedirectURI)
        async throws -> IdentityAdmin.App
    {
        defer { cache?.invalidateAll() }
        guard Self.isRedirectURI(input.uri) else {
            throw Abort(
                .badRequest,
                reason:
                    "Redirect URI '\(input.uri.prefix(200))' is not an absolute http(s) or custom-scheme URI without "
                    + "spaces, control characters, backslashes or a fragment.")
        }
        let tenant = try await requireTenant(identifier)
        let app = try await requireApp(appId, in: tenant)
        if !app.redirectURIs.contains(input.uri) {
            guard app.redirectURIs.count < 256 else {
                throw Abort(.badRequest, reason: "An app has at most 256 redirect URIs.")
            }
            app.redirectURIs.append(input.uri)
            try await app.save(on: database)
        }
        return app.toAdmin()
    }

    package func addSecret(tenant identifier: String, app appId: String, _ input: IdentityAdmin.AddSecret) async throws
        -> IdentityAdmin.Secret
    {
        let tenant = try await requireTenant(identifier)
        return try await addSecret(to: try await requireApp(appId, in: tenant), input)
    }

    package func grant(tenant identifier: String, client appId: String, _ input: IdentityAdmin.GrantAppRole)
        async throws
        -> IdentityAdmin.Grant
    {
        defer { cache?.invalidateAll() }
        let tenant = try await requireTenant(identifier)
        let client = try await requireApp(appId, in: tenant)
        let resource: AppRegistration
        do {
            resource = try await AppRegistration.resource(named: input.resource, in: tenant, on: database)
        } catch {
            throw Abort(.notFound, reason: "No app named '\(input.resource)' in the tenant.")
        }
        guard resource.appRoles.contains(input.role) else {
            throw Abort(
                .badRequest,
                reason:
                    "\(resource.displayName) offers no app role '\(input.role)'. It offers: \(resource.appRoles.joined(separator: ", "))."
            )
        }
        let existing = try await AppRoleGrant.query(on: database)
            .filter(\.$clientApp.$id == client.requireID()).filter(\.$resourceApp.$id == resource.requireID())
            .filter(\.$role == input.role).first()
        if existing == nil {
            try await AppRoleGrant(
                clientAppID: client.requireID(), resourceAppID: resource.requireID(), role: input.role
            )
            .create(on: database)
        }
        return IdentityAdmin.Grant(clientAppId: client.appId, resourceAppId: resource.appId, role: input.role)
    }

    /// Required permissions with each resource named by appId, checked against what the resource offers.
    private func resolveRequiredAccess(_ entries: [IdentityAdmin.RequiredAccess], in tenant: Tenant) async throws
        -> [IdentityAdmin.RequiredAccess]
    {
        var resolved: [IdentityAdmin.RequiredAccess] = []
        for entry in entries {
            let resource = try await requireResource(entry.resource, in: tenant)
            var scopes: [String] = []
            for value in entry.scopes ?? [] {
                scopes.append(try Self.exposedScope(value, of: resource))
            }
            for role in entry.roles ?? [] where !resource.appRoles.contains(role) {
                throw Abort(.badRequest, reason: "\(resource.displayName) offers no app role '\(role.prefix(100))'.")
            }
            resolved.append(
                IdentityAdmin.RequiredAccess(
                    resource: resource.appId, scopes: scopes.isEmpty ? nil : scopes,
                    roles: (entry.roles ?? []).isEmpty ? nil : entry.roles))
        }
        return resolved
    }

    // MARK: Consent

    /// Consent to delegated permissions: for the whole tenant (admin consent, as a Global Administrator gives
    /// it in the portal) or, with `user`, for one user. Without `scopes`, every delegated permission the client
    /// requires of the resource.
    package func grantConsent(tenant identifier: String, client appId: String, _ input: IdentityAdmin.GrantConsent)
        async throws -> IdentityAdmin.Consent
    {
        defer { cache?.invalidateAll() }
        let tenant = try await requireTenant(identifier)
        let client = try await requireApp(appId, in: tenant)
        let resource = try await requireResource(input.resource, in: tenant)
        let asked =
            input.scopes
            ?? client.requiredResourceAccess.filter { $0.resource == resource.appId }.flatMap { $0.scopes ?? [] }
        guard !asked.isEmpty else {
            throw Abort(
                .badRequest,
                reason: "Name the scopes: \(client.displayName) requires no delegated permission of "
                    + "\(resource.displayName).")
        }
        var permissions: [String] = []
        for value in asked {
            let exposed = try Self.exposedScope(value, of: resource)
            if !permissions.contains(exposed) { permissions.append(exposed) }
        }
        var user: DirectoryUser?
        if let key = input.user { user = try await requireUser(key, in: tenant) }
        if user != nil,
            let adminOnly = permissions.first(where: { resource.exposedScope($0)?.adminConsentRequired ?? true })
        {
            throw Abort(
                .badRequest,
                reason: "'\(adminOnly)' needs admin consent: a user cannot consent to it for themselves.")
        }
        let grant = try await DelegatedConsent(database: database).record(
            client: client.requireID(), resource: resource.requireID(), permissions: permissions,
            principal: try user?.requireID())
        return IdentityAdmin.Consent(
            clientAppId: client.appId, resourceAppId: resource.appId, consentType: grant.consentType,
            principalId: user?.objectId, scopes: grant.scopes)
    }

    /// Every delegated permission grant of a client app.
    package func listConsents(tenant identifier: String, client appId: String) async throws -> [IdentityAdmin.Consent] {
        let tenant = try await requireTenant(identifier)
        let client = try await requireApp(appId, in: tenant)
        let grants = try await DelegatedPermissionGrant.query(on: database)
            .filter(\.$clientApp.$id == client.requireID()).with(\.$resourceApp).with(\.$principal).all()
        return grants.map { grant in
            IdentityAdmin.Consent(
                clientAppId: client.appId, resourceAppId: grant.resourceApp.appId, consentType: grant.consentType,
                principalId: grant.principal?.objectId, scopes: grant.scopes)
        }
    }

    // MARK: Helpers

    /// The permission as `resource` spells it, or a 400 that lists what it exposes.
    private static func exposedScope(_ value: String, of resource: AppRegistration) throws -> String {
        guard let exposed = resource.exposedScope(value) else {
            throw Abort(
                .badRequest,
                reason: "\(resource.displayName) exposes no delegated permission '\(value.prefix(100))'. "
                    + "It exposes: \(resource.exposedScopes.map(\.value).joined(separator: ", ")).")
        }
        return exposed.value
    }

    private func requireResource(_ identifier: String, in tenant: Tenant) async throws -> AppRegistration {
        do {
            return try await AppRegistration.resource(named: identifier, in: tenant, on: database)
        } catch {
            throw Abort(.notFound, reason: "No app named '\(identifier.prefix(200))' in the tenant.")
        }
    }

    /// An absolute URI a browser can be sent to: http(s) or a custom scheme (native apps), nothing a browser
    /// would read differently from how it is written.
    static func isRedirectURI(_ uri: String) -> Bool {
        guard uri.utf8.count <= 2048, !uri.contains("#"), !uri.contains("\\"),
            uri.unicodeScalars.allSatisfy({ $0.value > 0x20 && $0.value != 0x7f && !$0.properties.isWhitespace }),
            let url = URL(string: uri), let scheme = url.scheme?.lowercased(), !scheme.isEmpty
        else { return false }
        if scheme == "http" || scheme == "https" { return url.host?.isEmpty == false }
        return !["javascript", "data", "vbscript", "file"].contains(scheme)
    }

    /// A permission value as Entra allows it: no spaces, not starting with a dot.
    static func isPermissionValue(_ value: String) -> Bool {
        !value.isEmpty && value.utf8.count <= 120 && !value.hasPrefix(".")
            && value.unicodeScalars.allSatisfy { $0.isASCII && $0.value > 0x20 && $0.value != 0x7f && $0 != "/" }
    }

    private func addSecret(to app: AppRegistration, _ input: IdentityAdmin.AddSecret) async throws
        -> IdentityAdmin.Secret
    {
        defer { cache?.invalidateAll() }
        let days = input.days ?? 180
        guard (1...730).contains(days) else { throw Abort(.badRequest, reason: "A secret lives 1 to 730 days.") }
        let value = Self.newSecretValue()
        let secret = ClientSecret(
            appID: try app.requireID(), displayName: input.displayName ?? "Client secret",
            hint: String(value.prefix(3)),
            secretDigest: RandomToken.digest(value), expiresAt: now().addingTimeInterval(TimeInterval(days) * 86400))
        try await secret.create(on: database)
        return IdentityAdmin.Secret(
            appId: app.appId, secretId: try secret.requireID().uuidString.lowercased(), displayName: secret.displayName,
            hint: secret.hint, expiresAt: secret.expiresAt, secret: value)
    }

    /// 40 characters shaped like Entra's: three characters, `8Q~`, then 34 more.
    static func newSecretValue() -> String {
        let alphabet = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.~-"
        return RandomToken.string(length: 3, alphabet: alphabet) + "8Q~"
            + RandomToken.string(length: 34, alphabet: alphabet)
    }

    private func requireTenant(_ identifier: String) async throws -> Tenant {
        guard let tenant = try await Tenant.find(identifier: identifier, on: database) else {
            throw Abort(.notFound, reason: "No tenant '\(identifier)'.")
        }
        return tenant
    }

    private func requireUser(_ key: String, in tenant: Tenant) async throws -> DirectoryUser {
        let query = DirectoryUser.query(on: database).filter(\.$tenant.$id == (try tenant.requireID()))
        if let id = UUID(uuidString: key) {
            query.filter(\.$id == id)
        } else {
            query.filter(\.$userPrincipalName == key.lowercased())
        }
        guard let user = try await query.first() else {
            throw Abort(.notFound, reason: "No user '\(key)' in the tenant.")
        }
        return user
    }

    private func requireApp(_ appId: String, in tenant: Tenant) async throws -> AppRegistration {
        guard
            let app = try await AppRegistration.query(on: database).filter(\.$tenant.$id == tenant.requireID())
                .filter(\.$appId == appId.lowercased()).first()
        else { throw Abort(.notFound, reason: "No app with appId '\(appId)' in the tenant.") }
        return app
    }

    private func userDTO(_ user: DirectoryUser) async throws -> IdentityAdmin.User {
        let roles = try await user.$roleAssignments.query(on: database).all().compactMap { assignment in
            DirectoryRoleTemplate.all.first { $0.templateId == assignment.roleTemplateId }?.displayName
        }
        return IdentityAdmin.User(
            id: user.objectId, userPrincipalName: user.userPrincipalName, displayName: user.displayName,
            mail: user.mail,
            accountEnabled: user.accountEnabled, roles: roles.sorted())
    }

    private static func isDomainName(_ name: String) -> Bool {
        let labels = name.split(separator: ".", omittingEmptySubsequences: false)
        return labels.count >= 2
            && labels.allSatisfy { label in
                !label.isEmpty && label.count <= 63 && label.allSatisfy { $0.isLetter || $0.isNumber || $0 == "-" }
            }
    }
}

extension AppRegistration {
    func toAdmin() -> IdentityAdmin.App {
        IdentityAdmin.App(
            appId: appId, objectId: (id ?? UUID()).uuidString.lowercased(),
            servicePrincipalId: servicePrincipalId.uuidString.lowercased(),
            tenantId: $tenant.id.uuidString.lowercased(),
            displayName: displayName, redirectUris: redirectURIs, identifierUris: identifierURIs, appRoles: appRoles,
            accessTokenVersion: accessTokenVersion, exposedScopes: exposedScopes.isEmpty ? nil : exposedScopes,
            requiredResourceAccess: requiredResourceAccess.isEmpty ? nil : requiredResourceAccess)
    }
}

import Fluent
import Foundation
import ServerSupport
import WireModels

/// The demo tenant `contoso` with an admin, a support admin and an ordinary user, plus a client app
/// that may read the directory. Credentials are random per data folder.
package struct IdentityDemoSeed: Sendable {
    package static let tenantDomain = "contoso.onmicrosoft.com"

    /// What the seed created, as written to the `identity` section of `data/demo.json`.
    package struct Credentials: Codable, Sendable, Equatable {
        package struct User: Codable, Sendable, Equatable {
            package var userPrincipalName: String
            package var password: String
            package var roles: [String]
        }

        package var tenantId: String
        package var tenantDomain: String
        package var users: [User]
        package var clientApp: IdentityAdmin.App
    }

    package let admin: DirectoryAdmin

    package init(admin: DirectoryAdmin) {
        self.admin = admin
    }

    /// Seeds once: returns nil when the demo tenant already exists.
    package func seedIfNeeded() async throws -> Credentials? {
        if try await Tenant.find(identifier: Self.tenantDomain, on: admin.database) != nil { return nil }
        let tenant = try await admin.createTenant(
            IdentityAdmin.CreateTenant(name: "Contoso", domains: [Self.tenantDomain, "contoso.com"]))
        let people: [(String, String, [DirectoryRoleTemplate])] = [
            ("admin", "Megan Bowen", [.globalAdministrator]),
            ("support", "Alex Wilber", [.serviceSupportAdministrator]),
            ("user", "Lee Gu", []),
        ]
        var users: [Credentials.User] = []
        for (name, displayName, roles) in people {
            let upn = "\(name)@\(Self.tenantDomain)"
            let password = RandomToken.password()
            _ = try await admin.createUser(
                tenant: tenant.id,
                IdentityAdmin.CreateUser(userPrincipalName: upn, displayName: displayName, password: password))
            for role in roles { _ = try await admin.assignRole(tenant: tenant.id, user: upn, role: role.templateId) }
            users.append(.init(userPrincipalName: upn, password: password, roles: roles.map(\.displayName)))
        }
        let client = try await admin.createApp(
            tenant: tenant.id,
            IdentityAdmin.CreateApp(
                displayName: "Demo directory reader", redirectUris: ["http://localhost:8765/callback"],
                requiredResourceAccess: [
                    .init(
                        resource: MicrosoftGraphResource.identifierURI, scopes: ["User.Read"],
                        roles: [MicrosoftGraphResource.Role.directoryReadAll])
                ]))
        // The Global Administrator's consent for the tenant to what the app requires: its users sign in to it
        // without a consent page.
        _ = try await admin.grantConsent(
            tenant: tenant.id, client: client.appId,
            IdentityAdmin.GrantConsent(resource: MicrosoftGraphResource.identifierURI))
        _ = try await admin.grant(
            tenant: tenant.id, client: client.appId,
            IdentityAdmin.GrantAppRole(
                resource: MicrosoftGraphResource.identifierURI, role: MicrosoftGraphResource.Role.directoryReadAll))
        return Credentials(tenantId: tenant.id, tenantDomain: Self.tenantDomain, users: users, clientApp: client)
    }
}

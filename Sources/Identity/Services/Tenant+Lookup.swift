import Fluent
import Foundation

extension Tenant {
    /// The tenant named by a path's `{tenant}`: its GUID or one of its domain names.
    static func find(identifier: String, on database: any Database) async throws -> Tenant? {
        if let id = UUID(uuidString: identifier) {
            return try await Tenant.find(id, on: database)
        }
        guard let domain = try await TenantDomain.query(on: database).filter(\.$name == identifier.lowercased()).first()
        else { return nil }
        return try await Tenant.find(domain.$tenant.id, on: database)
    }

    /// The tenant or AADSTS90002.
    static func require(_ identifier: String, on database: any Database) async throws -> Tenant {
        guard let tenant = try await find(identifier: identifier, on: database) else {
            throw IdentityError.tenantNotFound(identifier)
        }
        return tenant
    }

    /// The tenant's primary domain, for messages.
    func primaryDomain(on database: any Database) async throws -> String {
        Self.primaryDomain(among: try await $domains.query(on: database).all().map(\.name)) ?? tenantId
    }

    /// The `*.onmicrosoft.com` domain, as Entra's initial domain, else the first by name.
    static func primaryDomain(among names: [String]) -> String? {
        let sorted = names.sorted()
        return sorted.first { $0.hasSuffix(".onmicrosoft.com") } ?? sorted.first
    }
}

extension AppRegistration {
    /// The app in the tenant named by appId or identifier URI, or AADSTS500011.
    static func resource(named identifier: String, in tenant: Tenant, on database: any Database) async throws
        -> AppRegistration
    {
        let candidates = try await AppRegistration.query(on: database).filter(\.$tenant.$id == tenant.requireID()).all()
        guard let app = candidates.first(where: { $0.isNamed(identifier) }) else {
            throw IdentityError.resourceNotFound(identifier, tenant: try await tenant.primaryDomain(on: database))
        }
        return app
    }
}

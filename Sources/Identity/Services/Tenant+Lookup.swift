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

    /// The tenant's primary domain (the first created), used in messages.
    func primaryDomain(on database: any Database) async throws -> String {
        try await $domains.query(on: database).first()?.name ?? tenantId
    }
}

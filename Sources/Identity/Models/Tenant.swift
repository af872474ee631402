import Fluent
import Foundation

/// An Entra tenant: its ID is the directory's GUID, its domains the names that also select it in paths.
final class Tenant: Model, @unchecked Sendable {
    static let schema = "identity_tenants"

    @ID(custom: .id, generatedBy: .user) var id: UUID?
    @Field(key: "name") var name: String
    @Children(for: \.$tenant) var domains: [TenantDomain]
    @Timestamp(key: "created_at", on: .create) var createdAt: Date?

    init() {}

    init(id: UUID = UUID(), name: String) {
        self.id = id
        self.name = name
    }

    /// The tenant ID as Entra writes it: lowercase GUID.
    var tenantId: String { (id ?? UUID()).uuidString.lowercased() }
}

final class TenantDomain: Model, @unchecked Sendable {
    static let schema = "identity_tenant_domains"

    @ID(key: .id) var id: UUID?
    @Parent(key: "tenant_id") var tenant: Tenant
    /// Lowercased, e.g. `contoso.onmicrosoft.com`.
    @Field(key: "name") var name: String

    init() {}

    init(tenantID: UUID, name: String) {
        self.$tenant.id = tenantID
        self.name = name.lowercased()
    }
}

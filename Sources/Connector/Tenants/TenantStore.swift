import Fluent
import Foundation
import SQLKit
import Vapor
import WireModels

/// A tenant the Connector serves.
struct TenantRecord: Sendable, Equatable {
    let tenantId: String
    let displayName: String
    let domains: [String]
    let resourceAppId: String?

    var wire: ConnectorTenant {
        ConnectorTenant(tenantId: tenantId, displayName: displayName, domains: domains, resourceAppId: resourceAppId)
    }
}

/// The tenants the Connector serves: only their tokens are accepted, and everything else it stores belongs to
/// one of them.
struct TenantStore {
    let sql: any SQLDatabase
    let now: @Sendable () -> Date

    static let table = "connector_tenants"

    private struct Row: Decodable {
        let tenant_id: String
        let display_name: String
        let domains: String
        let resource_app_id: String?

        var record: TenantRecord {
            TenantRecord(
                tenantId: tenant_id, displayName: display_name,
                domains: domains.split(separator: ",").map(String.init), resourceAppId: resource_app_id)
        }
    }

    /// The tenant with this ID, or with this domain name.
    func find(_ identifier: String) async throws -> TenantRecord? {
        let key = identifier.trimmingCharacters(in: .whitespaces).lowercased()
        guard !key.isEmpty, key.utf8.count <= 255 else { return nil }
        if let id = UUID(uuidString: key) {
            return try await sql.select().columns("*").from(Self.table)
                .where("tenant_id", .equal, id.uuidString.lowercased())
                .first(decoding: Row.self)?.record
        }
        // Domains are few per tenant and tenants few per Connector: a scan of the list is cheap and exact.
        return try await list().first { $0.domains.contains(key) }
    }

    /// The tenant with this ID or domain, or the refusal an operator sees for one this Connector does not serve.
    func require(_ identifier: String) async throws -> TenantRecord {
        guard let tenant = try await find(identifier) else {
            throw ConnectorError(
                .notFound, .tenantNotRegistered, "This Connector serves no tenant '\(identifier.prefix(100))'.")
        }
        return tenant
    }

    /// The Connector's own app credentials in the tenant, for reading its directory: client ID and the sealed
    /// secret.
    func directoryCredentials(_ tenantId: String) async throws -> (clientId: String, sealedSecret: String)? {
        guard
            let row = try await sql.select().columns("directory_client_id", "directory_client_secret").from(Self.table)
                .where("tenant_id", .equal, tenantId).first(),
            let clientId = try row.decode(column: "directory_client_id", as: String?.self),
            let sealed = try row.decode(column: "directory_client_secret", as: String?.self)
        else { return nil }
        return (clientId, sealed)
    }

    /// Keeps the Connector's own app credentials in the tenant (the secret sealed by the caller); nil removes them.
    func setDirectoryCredentials(_ tenantId: String, clientId: String?, sealedSecret: String?) async throws {
        try await sql.update(Self.table).set("directory_client_id", to: SQLBind(clientId))
            .set("directory_client_secret", to: SQLBind(sealedSecret)).where("tenant_id", .equal, tenantId).run()
    }

    func list() async throws -> [TenantRecord] {
        try await sql.select().columns("*").from(Self.table).orderBy("display_name").all(decoding: Row.self)
            .map(\.record)
    }

    /// Adds the tenant or updates its name, domains and resource app ID (kept when nil).
    @discardableResult
    func register(tenantId: String, displayName: String, domains: [String], resourceAppId: String?) async throws
        -> TenantRecord
    {
        guard let id = UUID(uuidString: tenantId)?.uuidString.lowercased() else {
            throw ConnectorError.invalid("The tenant ID must be a GUID.")
        }
        let name = displayName.trimmingCharacters(in: .whitespacesAndNewlines)
        guard (1...256).contains(name.count) else {
            throw ConnectorError.invalid("A tenant needs a display name of up to 256 characters.")
        }
        let domains = domains.map { $0.trimmingCharacters(in: .whitespaces).lowercased() }.filter { !$0.isEmpty }
        guard domains.allSatisfy(Self.isDomainName) else {
            throw ConnectorError.invalid("Domain names are letters, digits, hyphens and dots, such as contoso.com.")
        }
        for other in try await list() where other.tenantId != id {
            if let taken = domains.first(where: other.domains.contains) {
                throw ConnectorError(.conflict, .conflict, "The domain \(taken) belongs to tenant \(other.tenantId).")
            }
        }
        if let existing = try await find(id) {
            try await sql.update(Self.table)
                .set("display_name", to: name)
                .set("domains", to: domains.joined(separator: ","))
                .set("resource_app_id", to: resourceAppId?.lowercased() ?? existing.resourceAppId)
                .where("tenant_id", .equal, id)
                .run()
        } else {
            try await sql.insert(into: Self.table)
                .columns("tenant_id", "display_name", "domains", "resource_app_id", "created_at")
                .values(
                    SQLBind(id), SQLBind(name), SQLBind(domains.joined(separator: ",")),
                    SQLBind(resourceAppId?.lowercased()), SQLBind(now().timeIntervalSince1970)
                )
                .run()
        }
        guard let saved = try await find(id) else { throw Abort(.internalServerError) }
        return saved
    }

    static func isDomainName(_ name: String) -> Bool {
        (1...253).contains(name.utf8.count) && name.contains(".")
            && name.utf8.allSatisfy {
                (97...122).contains($0) || (48...57).contains($0) || $0 == UInt8(ascii: "-") || $0 == UInt8(ascii: ".")
            }
    }
}

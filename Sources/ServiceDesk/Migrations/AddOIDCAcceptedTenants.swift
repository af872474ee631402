import Fluent

/// `accepted_tenants` on OIDC provider configurations: the tenants whose tokens a multi-tenant issuer
/// (`…/{tenantid}/v2.0`) may vouch for. Without it a multi-tenant metadata URL would accept any tenant's token.
struct AddOIDCAcceptedTenants: AsyncMigration {
    static let added = ["accepted_tenants"]

    func prepare(on database: any Database) async throws {
        try await database.schema(DeskTables.oidcProviderConfiguration.databaseTable)
            .field("accepted_tenants", .string).update()
    }

    func revert(on database: any Database) async throws {
        try await database.schema(DeskTables.oidcProviderConfiguration.databaseTable)
            .deleteField("accepted_tenants").update()
    }
}

import Fluent

/// `accepted_tenants` on OIDC provider configurations: the tenants whose tokens a multi-tenant issuer
/// (`…/{tenantid}/v2.0`) may vouch for. Without it a multi-tenant metadata URL would accept any tenant's token.
struct AddOIDCAcceptedTenants: AsyncMigration {
    func prepare(on database: any Database) async throws {
        try await database.schema("desk_oidc_provider_configuration")
            .field("accepted_tenants", .string).update()
    }

    func revert(on database: any Database) async throws {
        try await database.schema("desk_oidc_provider_configuration")
            .deleteField("accepted_tenants").update()
    }
}

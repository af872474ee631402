import Fluent
import SQLKit

/// OIDC provider configurations, OAuth profiles, the outbound token cache, both logs and cross-scope
/// privileges (with the app's installed default: it may read `oauth_entity`).
struct CreatePlatformTables: AsyncMigration {
    static let addedEntityColumns = ["resource", "scope", "oidc_provider_configuration"]

    func prepare(on database: any Database) async throws {
        // One column per statement: SQLite adds a single column per ALTER TABLE.
        for column in Self.addedEntityColumns {
            try await database.schema(DeskTables.oauthEntity.databaseTable)
                .field(FieldKey(stringLiteral: column), .string).update()
        }
        for table in [
            DeskTables.oidcProviderConfiguration.excluding(AddOIDCAcceptedTenants.added), DeskTables.oauthEntityProfile,
            DeskTables.syslog, DeskTables.outboundHTTPLog, DeskTables.scopePrivilege,
        ] {
            try await CreateDeskTables.create(table, on: database)
        }
        try await database.schema(OutboundTokenCache.schema)
            .field("profile_id", .string, .identifier(auto: false))
            .field("sealed_token", .string, .required)
            .field("expires_at", .double, .required)
            .create()
        guard let sql = database as? any SQLDatabase else { return }
        try await ScopePrivileges.installDefaults(sql: sql)
    }

    func revert(on database: any Database) async throws {
        try await database.schema(OutboundTokenCache.schema).delete()
        for table in [
            DeskTables.scopePrivilege, DeskTables.outboundHTTPLog, DeskTables.syslog, DeskTables.oauthEntityProfile,
            DeskTables.oidcProviderConfiguration,
        ] {
            try await database.schema(table.databaseTable).delete()
        }
        for column in Self.addedEntityColumns.reversed() {
            try await database.schema(DeskTables.oauthEntity.databaseTable)
                .deleteField(FieldKey(stringLiteral: column)).update()
        }
    }
}

import Connector
import Foundation
import Identity
import ServerSupport
import TestSupport
import Vapor
import WireModels

/// Identity as the service benchmarks run it: listening on loopback HTTP, its SQLite file in the run's folder.
struct BenchIdentity {
    let app: Application
    let url: String

    static func start(in directory: URL, masterKey: MasterKey) async throws -> BenchIdentity {
        let port = freeLoopbackPort()
        let app = try await Application.make(.production)
        try await Identity.configure(
            app,
            config: IdentityConfig(
                endpoint: ServiceEndpoint(host: "127.0.0.1", port: port, usesTLS: false),
                database: .sqliteFile(directory.appendingPathComponent("identity.sqlite")), masterKey: masterKey,
                tls: nil, passwordCost: 4))
        try await app.prepareIdentity()
        try await app.server.start(address: .hostname("127.0.0.1", port: port))
        return BenchIdentity(app: app, url: "http://127.0.0.1:\(port)")
    }

    func stop() async throws {
        await app.server.shutdown()
        try await app.asyncShutdown()
    }
}

/// Contoso as the case benchmarks need it: a Global Administrator to be a case's contact, the tenant served by the
/// Connector (its resource app registered) with the Connector's directory reader.
struct BenchContoso {
    let tenant: IdentityAdmin.Tenant
    /// The Global Administrator's user principal name.
    let administrator: String

    static func create(in identity: BenchIdentity) async throws -> BenchContoso {
        let admin = identity.app.directoryAdmin()
        let tenant = try await admin.createTenant(.init(name: "Contoso", domains: ["contoso.onmicrosoft.com"]))
        let boss = "admin@contoso.onmicrosoft.com"
        _ = try await admin.createUser(
            tenant: tenant.id, .init(userPrincipalName: boss, displayName: "Admin", password: "Bench-Passw0rd-1"))
        _ = try await admin.assignRole(
            tenant: tenant.id, user: boss, role: DirectoryRoleTemplate.globalAdministrator.templateId)
        return BenchContoso(tenant: tenant, administrator: boss)
    }

    /// Registers the tenant with `connector` (whose resource identifier is `resource`) and gives it a directory
    /// reader; returns the desk's outbound app registration holding `roles` of the Connector.
    func serve(
        by operations: ConnectorOperations, resource: String, identity: BenchIdentity, roles: [String]
    ) async throws -> IdentityAdmin.App {
        let admin = identity.app.directoryAdmin()
        let resourceApp = try await admin.createApp(
            tenant: tenant.id,
            .init(
                displayName: ConnectorResource.displayName, identifierUris: [resource],
                appRoles: ConnectorResource.Role.all, withSecret: false))
        _ = try await operations.registerTenant(
            ConnectorTenant(
                tenantId: tenant.id, displayName: tenant.name, domains: tenant.domains,
                resourceAppId: resourceApp.appId))
        let reader = try await admin.createApp(tenant: tenant.id, .init(displayName: "Directory reader"))
        _ = try await admin.grant(
            tenant: tenant.id, client: reader.appId,
            .init(resource: MicrosoftGraphResource.identifierURI, role: MicrosoftGraphResource.Role.directoryReadAll))
        try await operations.setDirectoryCredentials(tenant: tenant.id, clientId: reader.appId, secret: reader.secret!)
        let outbound = try await admin.createApp(tenant: tenant.id, .init(displayName: "Desk outbound"))
        for role in roles {
            _ = try await admin.grant(tenant: tenant.id, client: outbound.appId, .init(resource: resource, role: role))
        }
        return outbound
    }
}

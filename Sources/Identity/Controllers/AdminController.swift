import Fluent
import Foundation
import ServerSupport
import Vapor
import WireModels

/// `/admin/api/…`: the same management operations as the CLI, behind the admin bearer token.
struct AdminController: RouteCollection {
    let adminToken: String?

    func boot(routes: any RoutesBuilder) throws {
        let api = routes.grouped(IdentityPath.adminAPI.pathComponents).grouped(
            AdminTokenMiddleware(token: adminToken, variable: "M365_IDENTITY_ADMIN_TOKEN")
        )
        .grouped(StrictJSONMiddleware())
        api.get("tenants", use: listTenants)
        api.post("tenants", use: createTenant)
        api.post("tenants", ":tenant", "users", use: createUser)
        api.post("tenants", ":tenant", "users", ":user", "roles", use: assignRole)
        api.post("tenants", ":tenant", "apps", use: createApp)
        api.post("tenants", ":tenant", "apps", ":app", "secrets", use: addSecret)
        api.post("tenants", ":tenant", "apps", ":app", "redirectUris", use: addRedirectURI)
        api.post("tenants", ":tenant", "apps", ":app", "grants", use: grant)
        api.post("tenants", ":tenant", "apps", ":app", "consents", use: grantConsent)
        api.get("tenants", ":tenant", "apps", ":app", "consents", use: listConsents)
        api.get("keys", use: listKeys)
        api.post("keys", "rotate", use: rotateKeys)
    }

    private func admin(_ request: Request) -> DirectoryAdmin {
        request.application.directoryAdmin()
    }

    func listTenants(_ request: Request) async throws -> JSONBody<[IdentityAdmin.Tenant]> {
        JSONBody(try await admin(request).listTenants())
    }

    func createTenant(_ request: Request) async throws -> JSONBody<IdentityAdmin.Tenant> {
        JSONBody(
            try await admin(request).createTenant(request.content.decode(IdentityAdmin.CreateTenant.self)),
            status: .created)
    }

    func createUser(_ request: Request) async throws -> JSONBody<IdentityAdmin.User> {
        let input = try request.content.decode(IdentityAdmin.CreateUser.self)
        return JSONBody(
            try await admin(request).createUser(tenant: request.parameters.require("tenant"), input), status: .created)
    }

    func assignRole(_ request: Request) async throws -> JSONBody<IdentityAdmin.User> {
        let input = try request.content.decode(IdentityAdmin.AssignRole.self)
        return JSONBody(
            try await admin(request).assignRole(
                tenant: request.parameters.require("tenant"), user: request.parameters.require("user"), role: input.role
            ))
    }

    func createApp(_ request: Request) async throws -> JSONBody<IdentityAdmin.App> {
        let input = try request.content.decode(IdentityAdmin.CreateApp.self)
        return JSONBody(
            try await admin(request).createApp(tenant: request.parameters.require("tenant"), input), status: .created)
    }

    func addSecret(_ request: Request) async throws -> JSONBody<IdentityAdmin.Secret> {
        let input = (try? request.content.decode(IdentityAdmin.AddSecret.self)) ?? IdentityAdmin.AddSecret()
        return JSONBody(
            try await admin(request).addSecret(
                tenant: request.parameters.require("tenant"), app: request.parameters.require("app"), input),
            status: .created)
    }

    func addRedirectURI(_ request: Request) async throws -> JSONBody<IdentityAdmin.App> {
        let input = try request.content.decode(IdentityAdmin.AddRedirectURI.self)
        return JSONBody(
            try await admin(request).addRedirectURI(
                tenant: request.parameters.require("tenant"), app: request.parameters.require("app"), input))
    }

    func grant(_ request: Request) async throws -> JSONBody<IdentityAdmin.Grant> {
        let input = try request.content.decode(IdentityAdmin.GrantAppRole.self)
        return JSONBody(
            try await admin(request).grant(
                tenant: request.parameters.require("tenant"), client: request.parameters.require("app"), input),
            status: .created)
    }

    func grantConsent(_ request: Request) async throws -> JSONBody<IdentityAdmin.Consent> {
        let input = try request.content.decode(IdentityAdmin.GrantConsent.self)
        return JSONBody(
            try await admin(request).grantConsent(
                tenant: request.parameters.require("tenant"), client: request.parameters.require("app"), input),
            status: .created)
    }

    func listConsents(_ request: Request) async throws -> JSONBody<[IdentityAdmin.Consent]> {
        JSONBody(
            try await admin(request).listConsents(
                tenant: request.parameters.require("tenant"), client: request.parameters.require("app")))
    }

    func listKeys(_ request: Request) async throws -> JSONBody<[IdentityAdmin.SigningKey]> {
        JSONBody(try await SigningKeyAdmin(database: request.db, keyRing: request.identity.keyRing).list())
    }

    func rotateKeys(_ request: Request) async throws -> JSONBody<[IdentityAdmin.SigningKey]> {
        let keys = SigningKeyAdmin(database: request.db, keyRing: request.identity.keyRing)
        try await keys.rotate()
        request.logger.info("Signing key rotated")
        return JSONBody(try await keys.list())
    }
}

/// Signing-key management shared by the admin API and `m365-support identity keys`.
package struct SigningKeyAdmin: Sendable {
    package let database: any Database
    package let keyRing: SigningKeyRing

    package init(database: any Database, keyRing: SigningKeyRing) {
        self.database = database
        self.keyRing = keyRing
    }

    package func rotate() async throws {
        try await keyRing.rotate(on: database)
    }

    package func list() async throws -> [IdentityAdmin.SigningKey] {
        _ = try await keyRing.activeKey(on: database)
        return try await SigningKey.query(on: database).sort(\.$createdAt, .descending).all().map {
            IdentityAdmin.SigningKey(
                kid: $0.kid, createdAt: $0.createdAt, active: $0.retiredAt == nil, publishedUntil: $0.publishedUntil)
        }
    }
}

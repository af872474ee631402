import Foundation
import ServerSupport
import Vapor
import WireModels

/// `/admin/api/…`: the operator's API (the support team running the Connector), behind the admin bearer token —
/// the same operations as `m365-support connector …`: tenants served, service health published locally, and
/// any tenant's organization profile.
struct AdminController: RouteCollection {
    let adminToken: String?

    func boot(routes: any RoutesBuilder) throws {
        let api = routes.grouped(ConnectorPath.adminAPI.pathComponents)
            .grouped(AdminTokenMiddleware(token: adminToken, variable: "M365_CONNECTOR_ADMIN_TOKEN"))
        api.get("tenants", use: listTenants)
        api.post("tenants", use: registerTenant)
        let tenant = api.grouped("tenants", ":tenant")
        tenant.get("profile", use: profile)
        tenant.patch("profile", use: updateProfile)
        tenant.post("profile", "repositories", use: addRepository)
        tenant.put("profile", "repositories", ":repository", use: putRepository)
        tenant.delete("profile", "repositories", ":repository", use: deleteRepository)
        let health = tenant.grouped("health")
        health.on(.POST, "import", body: .collect(maxSize: "4mb"), use: importHealth).maxBodySize("4mb")
        health.post("issues", use: publish).maxBodySize("64kb")
        health.post("issues", ":issue", "posts", use: post).maxBodySize("128kb")
        health.post("issues", ":issue", "resolve", use: resolve).maxBodySize("128kb")
    }

    struct TenantInput: Content {
        var tenantId: String
        var displayName: String
        var domains: [String]?
        var resourceAppId: String?
    }

    struct Resolution: Content {
        var message: String?
        var status: String?
    }

    private func tenant(_ request: Request) async throws -> TenantRecord {
        try await request.application.tenants(request.db).require(try request.parameters.require("tenant"))
    }

    private func publisher(_ request: Request) -> HealthPublisher {
        HealthPublisher(database: request.db, now: request.application.connector.config.now)
    }

    func listTenants(_ request: Request) async throws -> JSONBody<[ConnectorTenant]> {
        JSONBody(try await request.application.tenants(request.db).list().map(\.wire))
    }

    func registerTenant(_ request: Request) async throws -> JSONBody<ConnectorTenant> {
        let input = try request.content.decode(TenantInput.self)
        return JSONBody(
            try await request.application.tenants(request.db).register(
                tenantId: input.tenantId, displayName: input.displayName, domains: input.domains ?? [],
                resourceAppId: input.resourceAppId
            ).wire, status: .created)
    }

    func profile(_ request: Request) async throws -> JSONBody<OrganizationProfile> {
        let tenant = try await tenant(request)
        return JSONBody(try await request.application.profiles(request.db).profile(tenant: tenant.tenantId))
    }

    func updateProfile(_ request: Request) async throws -> JSONBody<OrganizationProfile> {
        let tenant = try await tenant(request)
        let input = try request.content.decode(OrganizationProfileUpdate.self)
        return JSONBody(
            try await request.application.profiles(request.db).update(tenant: tenant.tenantId, input, by: "operator"))
    }

    func addRepository(_ request: Request) async throws -> JSONBody<OrganizationProfile.Repository> {
        let tenant = try await tenant(request)
        let input = try request.content.decode(RepositoryInput.self)
        return JSONBody(
            try await request.application.profiles(request.db).saveRepository(
                tenant: tenant.tenantId, input, create: true, by: "operator"),
            status: .created)
    }

    /// Creates or replaces a repository by its ID (what a setup script runs again and again).
    func putRepository(_ request: Request) async throws -> JSONBody<OrganizationProfile.Repository> {
        let tenant = try await tenant(request)
        let id = try request.parameters.require("repository")
        var input = try request.content.decode(RepositoryInput.self)
        input.repositoryId = id
        let profiles = try request.application.profiles(request.db)
        let exists = try await profiles.profile(tenant: tenant.tenantId).repositories.contains { $0.repositoryId == id }
        return JSONBody(
            try await profiles.saveRepository(
                tenant: tenant.tenantId, input, create: !exists, existingId: exists ? id : nil, by: "operator"),
            status: exists ? .ok : .created)
    }

    func deleteRepository(_ request: Request) async throws -> Response {
        let tenant = try await tenant(request)
        try await request.application.profiles(request.db).deleteRepository(
            tenant: tenant.tenantId, id: try request.parameters.require("repository"))
        return Response(status: .noContent)
    }

    func importHealth(_ request: Request) async throws -> JSONBody<HealthPublisher.ImportSummary> {
        let tenant = try await tenant(request)
        guard let body = request.body.data else { throw ConnectorError.invalid("The request has no document.") }
        return JSONBody(try await publisher(request).importDocument(Data(buffer: body), tenant: tenant.tenantId))
    }

    func publish(_ request: Request) async throws -> Response {
        let tenant = try await tenant(request)
        let input = try request.content.decode(HealthPublisher.Publication.self, using: GraphDate.decoder)
        return Self.answer(try await publisher(request).publish(input, tenant: tenant.tenantId), status: .created)
    }

    func post(_ request: Request) async throws -> Response {
        let tenant = try await tenant(request)
        let input = try request.content.decode(HealthPublisher.Update.self)
        return Self.answer(
            try await publisher(request).post(
                input, issueId: try request.parameters.require("issue"), tenant: tenant.tenantId))
    }

    func resolve(_ request: Request) async throws -> Response {
        let tenant = try await tenant(request)
        let input = (try? request.content.decode(Resolution.self)) ?? Resolution()
        return Self.answer(
            try await publisher(request).resolve(
                issueId: try request.parameters.require("issue"), tenant: tenant.tenantId, message: input.message,
                status: input.status))
    }

    /// An issue in Graph's shape, as the service health routes write it.
    static func answer(_ issue: ServiceHealthIssue, status: HTTPResponseStatus = .ok) -> Response {
        var json = GraphJSON()
        json.issue(issue)
        return ServiceHealthController.response(json.bytes, status: status)
    }
}

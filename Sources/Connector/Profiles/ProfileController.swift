import Foundation
import ServerSupport
import Vapor
import WireModels

/// `/api/v1/organizationProfile…`: the tenant's own profile, for a signed-in user of the tenant (a delegated
/// token with `OrganizationProfile.ReadWrite`); changes only by a Global or Service Support Administrator.
/// `/api/v1/supportIntegration/check`: the desk's check that the Microsoft side is set up for it.
struct ProfileController: RouteCollection {
    func boot(routes: any RoutesBuilder) throws {
        let api = routes.grouped(BearerAuthMiddleware())
        let profile = ConnectorPath.organizationProfile.pathComponents
        let repositories = ConnectorPath.repositories.pathComponents
        api.get(profile, use: show)
        api.patch(profile, use: update)
        api.put(profile + ["graphSync"], use: setGraphSync)
        api.get(repositories, use: listRepositories)
        api.post(repositories, use: addRepository)
        api.get(repositories + [":repository"], use: showRepository)
        api.patch(repositories + [":repository"], use: updateRepository)
        api.delete(repositories + [":repository"], use: deleteRepository)
        api.post(ConnectorPath.integrationCheck.pathComponents, use: check)
    }

    /// The signed-in caller of a profile route; `write` also needs an administrator role.
    private func user(_ request: Request, write: Bool) throws -> Caller {
        let caller = try request.caller
        try caller.require(scope: ConnectorResource.profileScope)
        if write, !caller.isProfileAdministrator {
            throw ConnectorError(
                .forbidden, .notAnAdministrator,
                "Only a Global Administrator or a Service Support Administrator may change the organization profile.")
        }
        return caller
    }

    func show(_ request: Request) async throws -> JSONBody<OrganizationProfile> {
        let caller = try user(request, write: false)
        return JSONBody(try await request.application.profiles(request.db).profile(tenant: caller.tenantId))
    }

    func update(_ request: Request) async throws -> JSONBody<OrganizationProfile> {
        let caller = try user(request, write: true)
        let input = try request.content.decode(OrganizationProfileUpdate.self)
        return JSONBody(
            try await request.application.profiles(request.db).update(
                tenant: caller.tenantId, input, by: caller.userName))
    }

    func setGraphSync(_ request: Request) async throws -> JSONBody<OrganizationProfile> {
        let caller = try user(request, write: true)
        let input = try request.content.decode(GraphSyncInput.self)
        return JSONBody(
            try await request.application.profiles(request.db).setGraphSync(
                tenant: caller.tenantId, input, by: caller.userName))
    }

    func listRepositories(_ request: Request) async throws -> JSONBody<[OrganizationProfile.Repository]> {
        let caller = try user(request, write: false)
        return JSONBody(
            try await request.application.profiles(request.db).profile(tenant: caller.tenantId).repositories)
    }

    func showRepository(_ request: Request) async throws -> JSONBody<OrganizationProfile.Repository> {
        let caller = try user(request, write: false)
        let id = try request.parameters.require("repository")
        guard
            let repository = try await request.application.profiles(request.db).profile(tenant: caller.tenantId)
                .repositories.first(where: { $0.repositoryId == id })
        else {
            throw ConnectorError(
                .notFound, .repositoryNotRegistered, "The profile has no repository \(id.prefix(100)).")
        }
        return JSONBody(repository)
    }

    func addRepository(_ request: Request) async throws -> JSONBody<OrganizationProfile.Repository> {
        let caller = try user(request, write: true)
        let input = try request.content.decode(RepositoryInput.self)
        return JSONBody(
            try await request.application.profiles(request.db).saveRepository(
                tenant: caller.tenantId, input, create: true, by: caller.userName),
            status: .created)
    }

    func updateRepository(_ request: Request) async throws -> JSONBody<OrganizationProfile.Repository> {
        let caller = try user(request, write: true)
        let input = try request.content.decode(RepositoryInput.self)
        let id = try request.parameters.require("repository")
        if let renamed = input.repositoryId, renamed != id {
            throw ConnectorError.invalid("A repository's ID cannot change; add a new repository instead.")
        }
        return JSONBody(
            try await request.application.profiles(request.db).saveRepository(
                tenant: caller.tenantId, input, create: false, existingId: id, by: caller.userName))
    }

    func deleteRepository(_ request: Request) async throws -> Response {
        let caller = try user(request, write: true)
        try await request.application.profiles(request.db).deleteRepository(
            tenant: caller.tenantId, id: try request.parameters.require("repository"))
        return Response(status: .noContent)
    }

    func check(_ request: Request) async throws -> JSONBody<IntegrationCheckResult> {
        let caller = try request.caller
        try caller.require(role: ConnectorResource.Role.supportIntegration)
        let input = try request.content.decode(IntegrationCheckRequest.self)
        let profile = try await request.application.profiles(request.db).profile(tenant: caller.tenantId)
        try IntegrationGate.requireApp(caller, profile: profile)
        let type = input.authenticationType?.lowercased() ?? "none"
        guard type == "none" || OrganizationProfile.Repository.authenticationTypes.contains(type) else {
            throw ConnectorError.invalid("authenticationType is basic, aad or none.")
        }
        guard type != "none" else {
            return JSONBody(
                IntegrationCheckResult(
                    tenantId: caller.tenantId, appId: caller.appId, repositoryId: nil, capabilities: ["insights"]))
        }
        guard let repositoryId = input.repositoryId, !repositoryId.isEmpty else {
            throw ConnectorError.invalid("A check for the \(type) mode names the desk's repository ID.")
        }
        let repository = try IntegrationGate.requireRepository(repositoryId, profile: profile)
        var mismatches: [String] = []
        if let endpoint = input.endpoint,
            (try? ProfileStore.checkedEndpoint(endpoint))?.lowercased() != repository.endpoint.lowercased()
        {
            mismatches.append("the endpoint is \(repository.endpoint) in the profile, \(endpoint.prefix(200)) here")
        }
        if repository.authenticationType != type {
            mismatches.append(
                "the authentication type is \(repository.authenticationType) in the profile, \(type) here")
        }
        let (clientLabel, userLabel) =
            type == "aad" ? ("REST API app's client ID", "REST user app") : ("client ID", "user name")
        if let clientId = input.clientId, clientId.lowercased() != (repository.clientId ?? "").lowercased() {
            mismatches.append(
                "the \(clientLabel) is \(repository.clientId ?? "not set") in the profile, \(clientId.prefix(200)) here"
            )
        }
        if let userName = input.userName, userName.lowercased() != (repository.restUserName ?? "").lowercased() {
            mismatches.append(
                "the \(userLabel) is \(repository.restUserName ?? "not set") in the profile, \(userName.prefix(200)) here"
            )
        }
        guard mismatches.isEmpty else {
            throw ConnectorError(
                .conflict, .repositoryMismatch,
                "Repository \(repositoryId) differs from this desk's settings: \(mismatches.joined(separator: "; ")). "
                    + "Correct it in the organization profile or in the setup wizard.")
        }
        return JSONBody(
            IntegrationCheckResult(
                tenantId: caller.tenantId, appId: caller.appId, repositoryId: repositoryId,
                capabilities: ["insights", "cases"]))
    }
}

/// The checks of every support integration call: the caller's app is the profile's App ID, and the repository
/// it names is in the profile. Their refusals carry distinct codes, so the desk can say "complete the final
/// step of application setup" instead of a generic failure.
enum IntegrationGate {
    static func requireApp(_ caller: Caller, profile: OrganizationProfile) throws {
        guard let appId = profile.appId else {
            throw ConnectorError(
                .forbidden, .profileNotConfigured,
                "Tenant \(caller.tenantId) has not set up its support integration: its organization profile has no "
                    + "App ID. A Microsoft 365 administrator enters App ID \(caller.appId) under Settings → Org "
                    + "settings → Organization profiles → Support integration.")
        }
        guard appId == caller.appId else {
            throw ConnectorError(
                .forbidden, .appIdNotRegistered,
                "App \(caller.appId) is not the App ID of tenant \(caller.tenantId)'s organization profile. A Microsoft "
                    + "365 administrator enters it under Settings → Org settings → Organization profiles → Support "
                    + "integration.")
        }
    }

    static func requireRepository(_ id: String, profile: OrganizationProfile) throws -> OrganizationProfile.Repository {
        guard let repository = profile.repositories.first(where: { $0.repositoryId == id }) else {
            throw ConnectorError(
                .forbidden, .repositoryNotRegistered,
                "Repository \(id.prefix(100)) is not in tenant \(profile.tenantId)'s organization profile. A Microsoft "
                    + "365 administrator adds it under Settings → Org settings → Organization profiles → Support "
                    + "integration → Repositories.")
        }
        return repository
    }
}

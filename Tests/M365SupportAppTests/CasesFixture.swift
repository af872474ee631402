import Connector
import Foundation
import Identity
import SQLKit
import ServerSupport
import ServiceDesk
import Synchronization
import TestSupport
import Testing
import Vapor
import VaporTesting
import WireModels

@testable import Connector
@testable import M365SupportApp
@testable import ServiceDesk

/// Answers the statuses a test queues for the app's inbound route before the app sees the call (a desk that is
/// briefly overloaded, a proxy refusing), then lets calls through again.
final class InboundFaults: AsyncMiddleware, Sendable {
    private let queued = Mutex<[Int]>([])

    func answer(_ statuses: Int...) { queued.withLock { $0 += statuses } }

    func respond(to request: Request, chainingTo next: any AsyncResponder) async throws -> Response {
        if request.method == .POST, request.url.path == M365SupportScope.inboundEvents,
            let status = queued.withLock({ $0.isEmpty ? nil : $0.removeFirst() })
        {
            var headers = HTTPHeaders()
            if status == 503 { headers.add(name: "Retry-After", value: "7") }
            return Response(status: .init(statusCode: status), headers: headers, body: .init(string: "refused"))
        }
        return try await next.respond(to: request)
    }
}

/// A desk set up for cases (basic or aad) with the Connector's repository pointing at it.
struct CaseSetup {
    let fixture: AppFixture
    let mode: String
    /// The integration user's name (basic) or the REST user app's client ID (aad).
    let integrationUser: String
    let incidentId: String
    let incidentNumber: String

    var outbox: OutboxStore { OutboxStore(sql: try! fixture.connector.db.asSQL(), now: fixture.clock.provider) }

    /// Opens a case as the Connector's API would for the desk, bypassing the tab (for delivery tests).
    func caseDirectly(key: String = UUID().uuidString) async throws -> String {
        let store = ServiceRequestStore(database: fixture.connector.db, now: fixture.clock.provider)
        let (created, _) = try await store.create(
            tenant: fixture.tenantId, appId: fixture.outboundApp.appId,
            ServiceRequestInput(
                repositoryId: "contoso-desk", ticketNumber: incidentNumber, title: "Mail delayed",
                description: "Mail to fabrikam.com is late.", severity: "B",
                contact: .init(email: "admin@contoso.onmicrosoft.com"), idempotencyKey: key))
        return created.number
    }

    /// An engineer's update in the Connector's operator API.
    func update(_ number: String, _ text: String, status: String? = nil) async throws {
        var headers = HTTPHeaders()
        headers.bearerAuthorization = BearerAuthorization(token: AppFixture.adminToken)
        headers.contentType = .json
        var body: [String: Any] = ["text": text, "author": "Alex Engineer"]
        if let status { body["status"] = status }
        let answer = try await fixture.connector.testing().sendRequest(
            .POST, "/admin/api/serviceRequests/\(number)/updates", headers: headers,
            body: ByteBuffer(data: try JSONSerialization.data(withJSONObject: body)))
        guard answer.status == .created else { throw TestFailure("update refused: \(answer.body.string)") }
    }

    @discardableResult
    func deliver() async -> Int { await OutboxDelivery(app: fixture.connector).deliverDue() }

    func states() async throws -> [String] {
        try await fixture.connector.db.asSQL().select().column("state").from("connector_outbox")
            .orderBy("sequence").all().map { try $0.decode(column: "state", as: String.self) }
    }

    /// The incident's work notes, oldest first.
    func workNotes() async throws -> [String] {
        try await fixture.desk.db.asSQL().select().column("value").from("desk_sys_journal_field")
            .where("element_id", .equal, incidentId).where("element", .equal, "work_notes")
            .orderBy("sys_created_on").all().map { try $0.decode(column: "value", as: String.self) }
    }

    /// The thread the desk holds for a case.
    func thread(_ number: String) async throws -> [CaseUpdate] {
        try await CaseStore(sql: fixture.desk.db.asSQL()).thread(number)
    }

    func deskTokens(_ kind: String) async throws -> Int {
        try await fixture.desk.db.asSQL().select().column("token_digest").from("desk_oauth_tokens")
            .where("kind", .equal, kind).all().count
    }
}

extension AppFixture {
    static let caseIncident = "Emails to external partners delayed"

    /// The guide's basic setup through the app's setup API: an inbound OAuth client, the web-service-only
    /// `integration.user`, repository `contoso-desk`, the App ID and the repository in contoso's organization
    /// profile, Finish.
    func configureBasic(repositoryPassword: String? = nil) async throws -> CaseSetup {
        let profile = try await createOutboundProvider()
        let directory = DeskDirectory(app: desk)
        let client = try await directory.createInboundEntity(name: "Microsoft 365 support (inbound, tests)")
        try await directory.createUser(
            userName: "integration.user", firstName: "Integration", lastName: "User", email: "",
            password: Self.password("integration.user"), roles: [], webServiceAccessOnly: true)
        try await expectOK(try await setup(.POST, "/consent", json: [:]))
        try await expectOK(try await setup(.PUT, "/outbound", json: ["profile": profile]))
        try await expectOK(try await setup(.PUT, "/inbound", json: ["choice": "client", "entity": client.clientId]))
        try await expectOK(try await setup(.PUT, "/user", json: ["user": "integration.user"]))
        try await expectOK(try await setup(.PUT, "/repository", json: ["repositoryId": "contoso-desk"]))
        try await expectOK(
            try await setup(
                .PUT, "/settings", json: ["adminEmail": "admin@contoso.onmicrosoft.com", "testEnvironment": true]))
        try await registerAppId(outboundApp.appId)
        try await addRepository(
            RepositoryInput(
                repositoryId: "contoso-desk", endpoint: try #require(deskListenURL), authenticationType: "basic",
                clientId: client.clientId, clientSecret: client.clientSecret, restUserName: "integration.user",
                restUserPassword: repositoryPassword ?? Self.password("integration.user")))
        try await expectOK(try await setup(.POST, "/complete"))
        try await prepareDirectory()
        return try await caseSetup(mode: "basic", integrationUser: "integration.user")
    }

    /// The guide's aad setup: the REST API and REST user apps in Identity, the desk's OIDC provider entity for
    /// the tenant, the integration user created by the wizard from the REST user app's client ID.
    func configureAAD() async throws -> CaseSetup {
        let admin = identity.directoryAdmin()
        let restAPI = try await admin.createApp(
            tenant: tenantId,
            .init(displayName: "ServiceNow REST API", appRoles: ["Incidents.Write"], withSecret: false))
        let restUser = try await admin.createApp(tenant: tenantId, .init(displayName: "ServiceNow REST user"))
        _ = try await admin.grant(
            tenant: tenantId, client: restUser.appId, .init(resource: restAPI.appId, role: "Incidents.Write"))
        let directory = DeskDirectory(app: desk)
        let config = try await directory.insert(
            DeskTables.oidcProviderConfiguration,
            [
                "oidc_provider": "Contoso Entra",
                "oidc_metadata_url": "\(identityURL)/\(tenantId)/.well-known/openid-configuration",
                "user_claim": "appid", "user_field": "user_id", "oidc_config_cache_life_span": 120,
            ])
        try await directory.insert(
            DeskTables.oauthEntity,
            [
                "name": "Contoso REST API", "type": "oidc_provider", "client_id": restAPI.appId,
                "oidc_provider_configuration": (config["sys_id"] ?? nil) ?? "",
            ])
        let profile = try await createOutboundProvider()
        try await expectOK(try await setup(.POST, "/consent", json: [:]))
        try await expectOK(try await setup(.PUT, "/outbound", json: ["profile": profile]))
        try await expectOK(try await setup(.PUT, "/inbound", json: ["choice": "oidc", "entity": "Contoso REST API"]))
        try await expectOK(
            try await setup(.PUT, "/user", json: ["restUserApp": restUser.appId, "createUser": true]))
        try await expectOK(try await setup(.PUT, "/repository", json: ["repositoryId": "contoso-desk"]))
        try await expectOK(try await setup(.PUT, "/settings", json: ["adminEmail": "admin@contoso.onmicrosoft.com"]))
        try await registerAppId(outboundApp.appId)
        try await addRepository(
            RepositoryInput(
                repositoryId: "contoso-desk", endpoint: try #require(deskListenURL), authenticationType: "aad",
                clientId: restAPI.appId, restUserName: restUser.appId, restUserPassword: restUser.secret!))
        try await expectOK(try await setup(.POST, "/complete"))
        try await prepareDirectory()
        return try await caseSetup(mode: "aad", integrationUser: restUser.appId)
    }

    /// Contoso's directory as the Connector reads it: Megan (Global Administrator) and Lee (no role), and the
    /// Connector's directory reader app holding Directory.Read.All.
    func prepareDirectory() async throws {
        let admin = identity.directoryAdmin()
        for (name, roles) in [("admin", [DirectoryRoleTemplate.globalAdministrator]), ("lee", [])] {
            let upn = "\(name)@contoso.onmicrosoft.com"
            _ = try await admin.createUser(
                tenant: tenantId, .init(userPrincipalName: upn, displayName: name, password: RandomToken.password()))
            for role in roles { _ = try await admin.assignRole(tenant: tenantId, user: upn, role: role.templateId) }
        }
        let reader = try await admin.createApp(tenant: tenantId, .init(displayName: "Connector directory"))
        _ = try await admin.grant(
            tenant: tenantId, client: reader.appId,
            .init(resource: MicrosoftGraphResource.identifierURI, role: MicrosoftGraphResource.Role.directoryReadAll))
        try await ConnectorOperations(app: connector).setDirectoryCredentials(
            tenant: tenantId, clientId: reader.appId, secret: reader.secret!)
    }

    func addRepository(_ repository: RepositoryInput) async throws {
        var headers = HTTPHeaders()
        headers.bearerAuthorization = BearerAuthorization(token: Self.adminToken)
        headers.contentType = .json
        let added = try await connector.testing().sendRequest(
            .POST, "/admin/api/tenants/\(tenantId)/profile/repositories", headers: headers,
            body: ByteBuffer(data: try JSONEncoder().encode(repository)))
        guard added.status == .created || added.status == .ok else {
            throw TestFailure("no repository: \(added.body.string)")
        }
    }

    private func caseSetup(mode: String, integrationUser: String) async throws -> CaseSetup {
        let incidentId = try await incident(Self.caseIncident)
        let record = try await table(.GET, "incident/\(incidentId)", as: "admin.user")
        let number = try #require(record.json["result"]?["number"] as? String)
        return CaseSetup(
            fixture: self, mode: mode, integrationUser: integrationUser, incidentId: incidentId,
            incidentNumber: number)
    }
}

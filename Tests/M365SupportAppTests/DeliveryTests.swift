import Connector
import Foundation
import SQLKit
import ServerSupport
import Synchronization
import TestSupport
import Testing
import Vapor
import VaporTesting
import WireModels

@testable import Connector
@testable import ServiceDesk

/// Until the app's inbound API: a receiver on the desk at the path the Connector delivers to, behind the desk's own
/// authentication (its `/oauth_token.do` bearer tokens), applying each event ID once and answering what the test
/// asks for.
final class InboundRecorder: DeskScopedApp, Sendable {
    let scope = M365SupportScope.name
    private let state = Mutex<(applied: [ServiceRequestEvent], seen: Set<String>, callers: [String], answers: [Int])>(
        ([], [], [], []))

    var applied: [ServiceRequestEvent] { state.withLock { $0.applied } }
    var callers: [String] { state.withLock { $0.callers } }

    /// The next deliveries answer these statuses (then 200 again).
    func answer(_ statuses: Int...) { state.withLock { $0.answers += statuses } }

    func routes(pages: any RoutesBuilder, api: any RoutesBuilder) throws {
        api.post("v1", "events") { request async throws -> Response in
            let user = try await request.requireAPIUser()
            let status: Int? = self.state.withLock { state in
                state.callers.append(user.userName)
                return state.answers.isEmpty ? nil : state.answers.removeFirst()
            }
            if let status {
                var headers = HTTPHeaders()
                if status == 503 { headers.add(name: "Retry-After", value: "7") }
                return Response(status: .init(statusCode: status), headers: headers, body: .init(string: "refused"))
            }
            let decoder = JSONDecoder()
            decoder.dateDecodingStrategy = .iso8601
            let event = try decoder.decode(ServiceRequestEvent.self, from: Data(request.body.string?.utf8 ?? "".utf8))
            self.state.withLock { state in
                if state.seen.insert(event.eventId).inserted { state.applied.append(event) }
            }
            return Response(status: .ok, body: .init(string: #"{"result":{"applied":true}}"#))
        }
    }
}

@Suite("Delivery of case events to the desk (basic mode, the desk's real /oauth_token.do)", .serialized)
struct DeliveryTests {
    struct Setup {
        let fixture: AppFixture
        let recorder: InboundRecorder
        let number: String

        var outbox: OutboxStore {
            OutboxStore(sql: try! fixture.connector.db.asSQL(), now: fixture.clock.provider)
        }

        func update(_ text: String) async throws {
            var headers = HTTPHeaders()
            headers.bearerAuthorization = BearerAuthorization(token: AppFixture.adminToken)
            headers.contentType = .json
            let answer = try await fixture.connector.testing().sendRequest(
                .POST, "/admin/api/serviceRequests/\(number)/updates", headers: headers,
                body: ByteBuffer(string: #"{"text":"\#(text)","author":"Alex Engineer"}"#))
            guard answer.status == .created else { throw TestFailure("update refused: \(answer.body.string)") }
        }

        func deliver() async -> Int { await OutboxDelivery(app: fixture.connector).deliverDue() }

        func states() async throws -> [String] {
            try await fixture.connector.db.asSQL().select().column("state").from("connector_outbox")
                .orderBy("sequence").all().map { try $0.decode(column: "state", as: String.self) }
        }

        func deskTokens(_ kind: String) async throws -> Int {
            try await fixture.desk.db.asSQL().select().column("token_digest").from("desk_oauth_tokens")
                .where("kind", .equal, kind).all().count
        }
    }

    /// A basic repository pointing at the listening desk, with an inbound OAuth client and a web-service-only user
    /// of that desk, and one case of contoso.
    func withDelivery(password: String? = nil, _ body: (Setup) async throws -> Void) async throws {
        let recorder = InboundRecorder()
        try await withApp(alsoInstall: [recorder], listeningDesk: true) { fixture in
            let directory = DeskDirectory(app: fixture.desk)
            let client = try await directory.createInboundEntity(name: "Microsoft 365 support (inbound)")
            try await directory.createUser(
                userName: "integration.user", firstName: "Integration", lastName: "User", email: "",
                password: AppFixture.password("integration.user"), roles: ["itil"], webServiceAccessOnly: true)
            let operations = ConnectorOperations(app: fixture.connector)
            _ = try await operations.updateProfile(
                tenant: fixture.tenantId,
                OrganizationProfileUpdate(supportTool: "ServiceNow", appId: fixture.outboundApp.appId))
            var headers = HTTPHeaders()
            headers.bearerAuthorization = BearerAuthorization(token: AppFixture.adminToken)
            headers.contentType = .json
            let repository = RepositoryInput(
                repositoryId: "contoso-desk", endpoint: try #require(fixture.deskListenURL),
                authenticationType: "basic",
                clientId: client.clientId, clientSecret: client.clientSecret, restUserName: "integration.user",
                restUserPassword: password ?? AppFixture.password("integration.user"))
            let added = try await fixture.connector.testing().sendRequest(
                .POST, "/admin/api/tenants/\(fixture.tenantId)/profile/repositories", headers: headers,
                body: ByteBuffer(data: try JSONEncoder().encode(repository)))
            guard added.status == .created else { throw TestFailure("no repository: \(added.body.string)") }
            let store = ServiceRequestStore(database: fixture.connector.db, now: fixture.clock.provider)
            let (created, _) = try await store.create(
                tenant: fixture.tenantId, appId: fixture.outboundApp.appId,
                ServiceRequestInput(
                    repositoryId: "contoso-desk", ticketNumber: "INC0010001", title: "Mail delayed",
                    description: "Mail to fabrikam.com is late.", severity: "B",
                    contact: .init(email: "admin@contoso.onmicrosoft.com"), idempotencyKey: "delivery-test-1"))
            try await body(Setup(fixture: fixture, recorder: recorder, number: created.number))
        }
    }

    @Test func anEngineersUpdateReachesTheDeskWithTheIntegrationUsersToken() async throws {
        try await withDelivery { setup in
            try await setup.update("We are on it.")
            #expect(await setup.deliver() == 1)
            #expect(setup.recorder.applied.map(\.update.text) == ["We are on it."])
            #expect(setup.recorder.callers == ["integration.user"])
            #expect(try await setup.states() == ["sent"])
            #expect(await setup.deliver() == 0)
            let listed = try await setup.outbox.list()
            #expect(listed.first?.state == "sent")
            #expect(listed.first?.serviceRequest == setup.number)
        }
    }

    @Test func theRefreshTokenIsReusedUntilItExpiresThenThePasswordGrantAgain() async throws {
        try await withDelivery { setup in
            try await setup.update("First")
            await setup.deliver()
            #expect(try await setup.deskTokens("refresh") == 1)
            #expect(try await setup.deskTokens("access") == 1)
            try await setup.update("Second, with the cached access token")
            await setup.deliver()
            #expect(try await setup.deskTokens("access") == 1)
            // The desk's access tokens live 1800 s: past that, the refresh token gets a new one.
            setup.fixture.clock.advance(by: 1900)
            try await setup.update("Third, after a refresh")
            await setup.deliver()
            #expect(try await setup.deskTokens("access") == 2)
            #expect(try await setup.deskTokens("refresh") == 1)
            // Past the repository's refresh token expiration (864000 s): a new password grant.
            setup.fixture.clock.advance(by: 864_000)
            try await setup.update("Fourth, after a new password grant")
            await setup.deliver()
            #expect(try await setup.deskTokens("refresh") == 2)
            #expect(setup.recorder.applied.map(\.update.sequence) == [1, 2, 3, 4])
        }
    }

    @Test func aRefusedTokenIsReplacedOnce() async throws {
        try await withDelivery { setup in
            try await setup.update("First")
            await setup.deliver()
            // The desk forgets every token (a restart of its token store, a revocation).
            try await setup.fixture.desk.db.asSQL().delete(from: "desk_oauth_tokens").run()
            try await setup.update("Second")
            await setup.deliver()
            #expect(try await setup.states() == ["sent", "sent"])
            #expect(setup.recorder.applied.count == 2)
        }
    }

    @Test func serverErrorsRetryAfterTheirRetryAfterAndOrderPerCaseHolds() async throws {
        try await withDelivery { setup in
            setup.recorder.answer(503)
            try await setup.update("First")
            try await setup.update("Second")
            #expect(await setup.deliver() == 1)
            #expect(try await setup.states() == ["pending", "pending"])
            let waiting = try await setup.outbox.list(state: .pending)
            let first = try #require(waiting.first { $0.sequence == 1 })
            #expect(first.lastError?.contains("503") == true)
            #expect(first.attempts == 1)
            let wait = try #require(first.nextAttemptAt).timeIntervalSince(setup.fixture.clock.now)
            #expect(abs(wait - 7) < 0.5)
            #expect(setup.recorder.applied.isEmpty)
            setup.fixture.clock.advance(by: 8)
            #expect(await setup.deliver() == 2)
            #expect(setup.recorder.applied.map(\.update.text) == ["First", "Second"])
        }
    }

    @Test func aClientErrorParksAtOnceAndAReplaySendsIt() async throws {
        try await withDelivery { setup in
            setup.recorder.answer(400)
            try await setup.update("First")
            try await setup.update("Second")
            await setup.deliver()
            #expect(try await setup.states() == ["parked", "pending"])
            var headers = HTTPHeaders()
            headers.bearerAuthorization = BearerAuthorization(token: AppFixture.adminToken)
            let listed = try await setup.fixture.connector.testing().sendRequest(
                .GET, "/admin/api/deliveries?state=parked", headers: headers)
            let rows = try #require(
                try JSONSerialization.jsonObject(with: Data(listed.body.readableBytesView)) as? [[String: Any]])
            #expect(rows.count == 1)
            let parkedId = try #require(rows.first?["eventId"] as? String)
            #expect((rows.first?["lastError"] as? String)?.contains("400") == true)
            #expect((rows.first?["lastError"] as? String)?.contains("retrying cannot change that") == true)
            // The later event waits behind the parked one.
            #expect(await setup.deliver() == 0)
            let replayed = try await setup.fixture.connector.testing().sendRequest(
                .POST, "/admin/api/deliveries/\(parkedId)/replay", headers: headers)
            #expect(replayed.status == .ok)
            #expect(replayed.body.string.contains("pending"))
            #expect(await setup.deliver() == 2)
            #expect(setup.recorder.applied.map(\.update.text) == ["First", "Second"])
            #expect(try await setup.outbox.replay(parkedId) == false)
            let again = try await setup.fixture.connector.testing().sendRequest(
                .POST, "/admin/api/deliveries/\(parkedId)/replay", headers: headers)
            #expect(again.status == .notFound)
        }
    }

    @Test func wrongCredentialsParkWithTheDesksAnswer() async throws {
        try await withDelivery(password: "not-the-password") { setup in
            try await setup.update("First")
            await setup.deliver()
            let parked = try #require(try await setup.outbox.list(state: .parked).first)
            #expect(parked.lastError?.contains("No token from the desk") == true, "\(parked.lastError ?? "")")
            #expect(parked.lastError?.contains("oauth_token.do") == true)
            #expect(parked.lastError?.contains("not-the-password") == false)
        }
    }

    @Test func aDeskThatDoesNotAnswerIsRetriedWithBackoff() async throws {
        try await withDelivery { setup in
            await setup.fixture.desk.server.shutdown()
            try await setup.update("First")
            await setup.deliver()
            let pending = try #require(try await setup.outbox.list(state: .pending).first)
            #expect(pending.lastError?.isEmpty == false)
            let wait = try #require(pending.nextAttemptAt).timeIntervalSince(setup.fixture.clock.now)
            #expect((4...6).contains(wait))
        }
    }
}

@Suite("Delivery of case events to the desk (aad mode: Identity's token verified by the desk's OIDC entity)")
struct AADDeliveryTests {
    @Test func anEventReachesTheDeskAsTheRESTUserApp() async throws {
        let recorder = InboundRecorder()
        try await withApp(alsoInstall: [recorder], listeningDesk: true) { fixture in
            let admin = fixture.identity.directoryAdmin()
            let restAPI = try await admin.createApp(
                tenant: fixture.tenantId,
                .init(displayName: "ServiceNow REST API", appRoles: ["Incidents.Write"], withSecret: false))
            let restUser = try await admin.createApp(
                tenant: fixture.tenantId, .init(displayName: "ServiceNow REST user"))
            _ = try await admin.grant(
                tenant: fixture.tenantId, client: restUser.appId,
                .init(resource: restAPI.appId, role: "Incidents.Write"))
            let directory = DeskDirectory(app: fixture.desk)
            let config = try await directory.insert(
                DeskTables.oidcProviderConfiguration,
                [
                    "oidc_provider": "Contoso Entra",
                    "oidc_metadata_url": "\(fixture.identityURL)/\(fixture.tenantId)/.well-known/openid-configuration",
                    "user_claim": "appid", "user_field": "user_name", "oidc_config_cache_life_span": 120,
                ])
            try await directory.insert(
                DeskTables.oauthEntity,
                [
                    "name": "Contoso REST API", "type": "oidc_provider", "client_id": restAPI.appId,
                    "oidc_provider_configuration": (config["sys_id"] ?? nil) ?? "",
                ])
            try await directory.createUser(
                userName: restUser.appId, firstName: "Microsoft 365", lastName: "REST user", email: "",
                password: RandomToken.password(), roles: ["itil"], webServiceAccessOnly: true)

            let operations = ConnectorOperations(app: fixture.connector)
            _ = try await operations.saveRepository(
                tenant: fixture.tenantId,
                RepositoryInput(
                    repositoryId: "contoso-desk", endpoint: try #require(fixture.deskListenURL),
                    authenticationType: "aad", clientId: restAPI.appId, restUserName: restUser.appId,
                    restUserPassword: restUser.secret!))
            let store = ServiceRequestStore(database: fixture.connector.db, now: fixture.clock.provider)
            let (created, _) = try await store.create(
                tenant: fixture.tenantId, appId: fixture.outboundApp.appId,
                ServiceRequestInput(
                    repositoryId: "contoso-desk", ticketNumber: "INC0010001", title: "Mail delayed",
                    description: "Mail to fabrikam.com is late.", severity: "B",
                    contact: .init(email: "admin@contoso.onmicrosoft.com"), idempotencyKey: "delivery-test-aad"))
            try await store.addUpdate(
                tenant: nil, number: created.number, source: .support, author: "Alex", text: "Over Entra")
            #expect(await OutboxDelivery(app: fixture.connector).deliverDue() == 1)
            #expect(recorder.applied.map(\.update.text) == ["Over Entra"])
            #expect(recorder.callers == [restUser.appId])
        }
    }
}

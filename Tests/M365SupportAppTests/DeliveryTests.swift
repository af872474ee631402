import Connector
import Foundation
import SQLKit
import ServerSupport
import TestSupport
import Testing
import Vapor
import VaporTesting
import WireModels

@testable import Connector
@testable import M365SupportApp
@testable import ServiceDesk

@Suite("Delivery of case events to the desk (basic mode, the desk's real /oauth_token.do)", .serialized)
struct DeliveryTests {
    struct Setup {
        let cases: CaseSetup
        let faults: InboundFaults
        let number: String

        var fixture: AppFixture { cases.fixture }
        var outbox: OutboxStore { cases.outbox }

        func update(_ text: String) async throws { try await cases.update(number, text) }
        @discardableResult
        func deliver() async -> Int { await cases.deliver() }
        func states() async throws -> [String] { try await cases.states() }
        func deskTokens(_ kind: String) async throws -> Int { try await cases.deskTokens(kind) }
        /// The texts the desk applied to the case's thread, in order.
        func applied() async throws -> [String] { try await cases.thread(number).map(\.text) }
    }

    /// The desk in basic mode (its real inbound API behind its /oauth_token.do), one case of contoso.
    func withDelivery(password: String? = nil, _ body: (Setup) async throws -> Void) async throws {
        let faults = InboundFaults()
        try await withApp(deskMiddleware: [faults], listeningDesk: true) { fixture in
            let cases = try await fixture.configureBasic(repositoryPassword: password)
            let number = try await cases.caseDirectly()
            try await body(Setup(cases: cases, faults: faults, number: number))
        }
    }

    @Test func anEngineersUpdateReachesTheDeskWithTheIntegrationUsersToken() async throws {
        try await withDelivery { setup in
            try await setup.update("We are on it.")
            #expect(await setup.deliver() == 1)
            #expect(try await setup.applied() == ["We are on it."])
            let notes = try await setup.fixture.desk.db.asSQL().select().columns("value", "sys_created_by")
                .from("desk_sys_journal_field").where("element_id", .equal, setup.cases.incidentId)
                .where("element", .equal, "work_notes").all()
            #expect(notes.count == 1)
            #expect(try notes.first?.decode(column: "sys_created_by", as: String.self) == "integration.user")
            #expect(try notes.first?.decode(column: "value", as: String.self).contains("We are on it.") == true)
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
            #expect(try await setup.cases.thread(setup.number).map(\.sequence) == [1, 2, 3, 4])
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
            #expect(try await setup.applied().count == 2)
        }
    }

    @Test func serverErrorsRetryAfterTheirRetryAfterAndOrderPerCaseHolds() async throws {
        try await withDelivery { setup in
            setup.faults.answer(503)
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
            #expect(try await setup.applied().isEmpty)
            setup.fixture.clock.advance(by: 8)
            #expect(await setup.deliver() == 2)
            #expect(try await setup.applied() == ["First", "Second"])
        }
    }

    @Test func aClientErrorParksAtOnceAndAReplaySendsIt() async throws {
        try await withDelivery { setup in
            setup.faults.answer(400)
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
            #expect(try await setup.applied() == ["First", "Second"])
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
        try await withApp(listeningDesk: true) { fixture in
            let cases = try await fixture.configureAAD()
            let number = try await cases.caseDirectly()
            try await cases.update(number, "Over Entra")
            #expect(await cases.deliver() == 1)
            #expect(try await cases.thread(number).map(\.text) == ["Over Entra"])
            let author = try await fixture.desk.db.asSQL().select().column("sys_created_by")
                .from("desk_sys_journal_field").where("element_id", .equal, cases.incidentId).first()?
                .decode(column: "sys_created_by", as: String.self)
            #expect(author == cases.integrationUser)
        }
    }
}

import AsyncHTTPClient
import Foundation
import ServerSupport
import TestSupport
import Testing
import Vapor
import VaporTesting
import WireModels

@testable import M365SupportApp

/// The app's cases on a PostgreSQL desk (when `M365_TEST_POSTGRES_APP_URL` is set): the same event delivered by
/// several deliveries at once is applied once; distinct events at once are all applied.
@Suite("Microsoft 365 support app on PostgreSQL", .serialized)
struct AppPostgresTests {
    static let url = TestPostgres.url("M365_TEST_POSTGRES_APP_URL")

    @Test(.enabled(if: TestPostgres.isRequired, "CI only"))
    func ciRunsThePostgresTests() {
        #expect(Self.url != nil, "\(TestPostgres.notConfigured("M365_TEST_POSTGRES_APP_URL")), but CI requires them")
    }

    @Test(.enabled(if: url != nil, Comment(rawValue: TestPostgres.notConfigured("M365_TEST_POSTGRES_APP_URL"))))
    func anEventDeliveredSeveralTimesAtOnceIsAppliedOnce() async throws {
        try await withApp(listeningDesk: true, deskDatabase: .postgres(url: Self.url!)) { fixture in
            let setup = try await fixture.configureBasic()
            let number = try await setup.caseDirectly()
            let listen = try #require(fixture.deskListenURL)
            let http = HTTPClient(eventLoopGroupProvider: .singleton)
            defer { Task { try? await http.shutdown() } }
            func deliver(_ event: ServiceRequestEvent) async throws -> (Int, String) {
                let encoder = JSONEncoder()
                encoder.dateEncodingStrategy = .iso8601
                var request = HTTPClientRequest(url: listen + M365SupportScope.inboundEvents)
                request.method = .POST
                request.headers.basicAuthorization = BasicAuthorization(
                    username: "integration.user", password: AppFixture.password("integration.user"))
                request.headers.contentType = .json
                request.body = .bytes(ByteBuffer(data: try encoder.encode(event)))
                let response = try await http.execute(request, timeout: .seconds(30))
                return (Int(response.status.code), String(buffer: try await response.body.collect(upTo: 1 << 20)))
            }
            let same = InboundAPITests.event(setup, number: number, text: "Once only")
            let answers = try await withThrowingTaskGroup(of: (Int, String).self) { group in
                for _ in 0..<6 { group.addTask { try await deliver(same) } }
                return try await group.reduce(into: []) { $0.append($1) }
            }
            #expect(answers.allSatisfy { $0.0 == 200 }, "\(answers)")
            #expect(answers.filter { $0.1.contains(#""applied":true"#) }.count == 1, "\(answers)")
            #expect(try await setup.thread(number).count == 1)
            #expect(try await setup.workNotes().filter { $0.contains("Once only") }.count == 1)

            let distinct = (2...7).map {
                InboundAPITests.event(setup, number: number, sequence: $0, text: "Event \($0)")
            }
            let results = try await withThrowingTaskGroup(of: (Int, String).self) { group in
                for event in distinct { group.addTask { try await deliver(event) } }
                return try await group.reduce(into: []) { $0.append($1) }
            }
            #expect(results.allSatisfy { $0.0 == 200 }, "\(results)")
            #expect(try await setup.thread(number).map(\.sequence) == Array(1...7))
            let kept = try #require(try await CaseStore(sql: fixture.desk.db.asSQL()).find(number: number))
            #expect(kept.status == "inProgress")
        }
    }
}

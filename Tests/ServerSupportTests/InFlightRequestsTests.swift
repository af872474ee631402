import Foundation
import Testing
import Vapor

@testable import ServerSupport

@Suite("In-flight requests")
struct InFlightRequestsTests {
    /// A responder that holds each request until released.
    final class HeldResponder: AsyncResponder, Sendable {
        let gate = AsyncStream<Void>.makeStream()

        func respond(to request: Request) async throws -> Response {
            for await _ in gate.stream { break }
            return Response(status: .ok)
        }
    }

    @Test func drainWaitsForRunningRequestsAndGivesUpAtItsDeadline() async throws {
        let app = try await Application.make(.testing)
        let counter = InFlightRequests()
        let responder = HeldResponder()
        #expect(await counter.drain(timeout: .milliseconds(10)))

        let request = Request(application: app, on: app.eventLoopGroup.next())
        let running = counter.respond(to: request, chainingTo: responder)
        let deadline = ContinuousClock.now.advanced(by: .seconds(5))
        while counter.current == 0, ContinuousClock.now < deadline { await Task.yield() }
        #expect(counter.current == 1)
        #expect(await counter.drain(timeout: .milliseconds(50)) == false)

        responder.gate.continuation.yield()
        _ = try await running.get()
        #expect(await counter.drain(timeout: .seconds(5)))
        try await app.asyncShutdown()
    }
}

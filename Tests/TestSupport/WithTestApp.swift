import Fluent
import Vapor

/// Runs `body` against a fresh `.testing` application: `setUp` configures and migrates it and returns the
/// fixture; afterwards the migrations are reverted and the app shut down, also when something throws.
package func withTestApp<Fixture>(
    setUp: (Application) async throws -> Fixture,
    _ body: (Application, Fixture) async throws -> Void
) async throws {
    TestLogging.bootstrap()
    let app = try await Application.make(.testing)
    do {
        let fixture = try await setUp(app)
        try await body(app, fixture)
        try await app.autoRevert()
    } catch {
        try? await app.autoRevert()
        try? await app.asyncShutdown()
        throw error
    }
    try await app.asyncShutdown()
}

import Foundation
import TestSupport
import Testing

/// docs/openapi/m365-support-app.yaml describes every route of the app's scripted REST API (the inbound events
/// and the setup steps), and nothing that does not exist.
@Suite struct AppOpenAPITests {
    @Test func everyAppAPIRouteIsDocumentedAndNothingElse() async throws {
        try await withApp { fx in
            let routes = OpenAPIDocument.routes(of: fx.desk) { $0.hasPrefix("/api/x_mioms_m365_assis/") }
            let documented = try OpenAPIDocument.operations("m365-support-app.yaml")
            #expect(routes.count >= 10)
            #expect(routes.subtracting(documented).isEmpty, "undocumented: \(routes.subtracting(documented).sorted())")
            #expect(documented.subtracting(routes).isEmpty, "no such route: \(documented.subtracting(routes).sorted())")
        }
    }
}

import Foundation
import TestSupport
import Testing
import Vapor
import WireModels

@testable import Connector

/// docs/openapi/connector.yaml describes every route of the Connector's own API and the operator's API, and
/// nothing that does not exist.
@Suite struct OpenAPIDocumentTests {
    @Test func everyAPIRouteIsDocumentedAndNothingElse() async throws {
        try await withConnector { fx in
            let routes = OpenAPIDocument.routes(of: fx.connector) { path in
                (path.hasPrefix("/api/v1/") || path.hasPrefix("/admin/api/")) && path != "/api/v1/openapi.json"
            }
            let documented = try OpenAPIDocument.operations("connector.yaml")
            #expect(routes.count > 10)
            #expect(routes.subtracting(documented).isEmpty, "undocumented: \(routes.subtracting(documented).sorted())")
            #expect(documented.subtracting(routes).isEmpty, "no such route: \(documented.subtracting(routes).sorted())")
        }
    }

    @Test func theServedJSONIsTheDocumentPeopleEdit() async throws {
        try await withConnector { fx in
            let served = try await fx.get("/api/v1/openapi.json", token: nil)
            #expect(served.status == .ok)
            let object = try #require(
                try JSONSerialization.jsonObject(with: Data(served.body.readableBytesView)) as? [String: Any])
            #expect(object["openapi"] as? String == "3.1.0")
            let paths = try #require(object["paths"] as? [String: [String: Any]])
            var operations = Set<String>()
            for (path, item) in paths {
                for method in ["get", "put", "post", "patch", "delete"] where item[method] != nil {
                    operations.insert(method.uppercased() + " " + path.replacing(/\{[^}]+\}/, with: "{}"))
                }
            }
            #expect(
                operations == (try OpenAPIDocument.operations("connector.yaml")),
                "run scripts/openapi-json.sh after editing the YAML")
            let problem = (object["components"] as? [String: Any])?["schemas"] as? [String: Any]
            let code = ((problem?["Problem"] as? [String: Any])?["properties"] as? [String: Any])?["code"]
            #expect(
                Set((code as? [String: Any])?["enum"] as? [String] ?? [])
                    == Set(ConnectorErrorCode.allCases.map(\.rawValue)),
                "the Problem schema's codes are ConnectorErrorCode's")
        }
    }
}

import Foundation
import Testing
import Vapor
import WireModels

@testable import Connector

/// docs/openapi/connector.yaml describes every route of the Connector's own API and the operator's API, and
/// nothing that does not exist.
@Suite struct OpenAPIDocumentTests {
    /// "METHOD /path" of the document, parameters written `{}`.
    static func documented() throws -> Set<String> {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("docs/openapi/connector.yaml")
        var operations = Set<String>()
        var path: String?
        for line in try String(contentsOf: url, encoding: .utf8).split(separator: "\n") {
            if let match = line.wholeMatch(of: /\ {2}(\/[^ ]*):/) {
                path = String(match.1).replacing(/\{[^}]+\}/, with: "{}")
            } else if let match = line.wholeMatch(of: /\ {4}(get|put|post|patch|delete):.*/), let path {
                operations.insert(match.1.uppercased() + " " + path)
            } else if !line.hasPrefix(" ") {
                path = nil
            }
        }
        return operations
    }

    @Test func everyAPIRouteIsDocumentedAndNothingElse() async throws {
        try await withConnector { fx in
            let routes = Set(
                fx.connector.routes.all.compactMap { route -> String? in
                    let path =
                        "/"
                        + route.path.map { component -> String in
                            switch component {
                            case .constant(let value): value
                            default: "{}"
                            }
                        }.joined(separator: "/")
                    guard path.hasPrefix("/api/v1/") || path.hasPrefix("/admin/api/"), path != "/api/v1/openapi.json"
                    else {
                        return nil
                    }
                    return route.method.rawValue + " " + path
                })
            let documented = try Self.documented()
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
            #expect(operations == (try Self.documented()), "run scripts/openapi-json.sh after editing the YAML")
            let problem = (object["components"] as? [String: Any])?["schemas"] as? [String: Any]
            let code = ((problem?["Problem"] as? [String: Any])?["properties"] as? [String: Any])?["code"]
            #expect(
                Set((code as? [String: Any])?["enum"] as? [String] ?? [])
                    == Set(ConnectorErrorCode.allCases.map(\.rawValue)),
                "the Problem schema's codes are ConnectorErrorCode's")
        }
    }
}

import Foundation
import Vapor

/// The operations an OpenAPI document in docs/openapi describes, and those an application routes, both as
/// "METHOD /path" with every parameter written `{}`: a test compares the two so a document and its service never
/// drift apart.
package enum OpenAPIDocument {
    /// The operations of docs/openapi/`name` (read line by line: paths two spaces in, methods four).
    package static func operations(_ name: String) throws -> Set<String> {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("docs/openapi/\(name)")
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

    /// The routes of `app` whose path passes `include`.
    package static func routes(of app: Application, where include: (String) -> Bool) -> Set<String> {
        Set(
            app.routes.all.compactMap { route -> String? in
                let path =
                    "/"
                    + route.path.map { component -> String in
                        switch component {
                        case .constant(let value): value
                        default: "{}"
                        }
                    }.joined(separator: "/")
                return include(path) ? route.method.rawValue + " " + path : nil
            })
    }
}

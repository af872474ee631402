import Foundation
import Vapor

/// Sends any `Encodable` wire model (WireModels types are Foundation-only, not `Content`) as JSON.
package struct JSONBody<Value: Encodable & Sendable>: AsyncResponseEncodable, Sendable {
    package let value: Value
    package let status: HTTPResponseStatus

    package init(_ value: Value, status: HTTPResponseStatus = .ok) {
        self.value = value
        self.status = status
    }

    package func encodeResponse(for request: Request) async throws -> Response {
        let response = Response(status: status)
        response.headers.contentType = .json
        response.body = .init(data: try JSONEncoder.iso8601.encode(value))
        return response
    }
}

extension Response {
    /// A JSON response for a wire model; slashes stay unescaped, as in the real services' documents.
    package static func json(_ value: some Encodable, status: HTTPResponseStatus = .ok) -> Response {
        let response = Response(status: status)
        response.headers.contentType = .json
        let encoder = JSONEncoder()
        encoder.outputFormatting = .withoutEscapingSlashes
        response.body = .init(data: (try? encoder.encode(value)) ?? Data("{}".utf8))
        return response
    }
}

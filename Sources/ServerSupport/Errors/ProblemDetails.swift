import Foundation
import Vapor

/// RFC 9457 `application/problem+json` body for the project's own APIs.
package struct ProblemDetails: Content, Sendable, Equatable {
    package var type: String
    package var title: String
    package var status: Int
    package var detail: String?
    package var code: String?
    package var instance: String?
    /// The request ID, also in the log line of the failure.
    package var correlationId: String?

    package init(
        type: String = "about:blank", title: String, status: Int, detail: String? = nil, code: String? = nil,
        instance: String? = nil, correlationId: String? = nil
    ) {
        self.type = type
        self.title = title
        self.status = status
        self.detail = detail
        self.code = code
        self.instance = instance
        self.correlationId = correlationId
    }

    package func response(for request: Request) -> Response {
        let response = Response(status: HTTPResponseStatus(statusCode: status))
        response.headers.contentType = HTTPMediaType(type: "application", subType: "problem+json")
        response.body = .init(data: (try? JSONEncoder().encode(self)) ?? Data())
        return response
    }
}

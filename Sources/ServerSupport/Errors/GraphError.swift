import Foundation
import Vapor
import WireModels

/// A failure a Graph-compatible API reports in Graph's envelope (`{"error":{"code","message","innerError"}}`),
/// for Identity's directory read now and the Connector's service health next.
package struct GraphError: Error, Sendable {
    package let status: HTTPResponseStatus
    package let code: String
    package let message: String

    package init(status: HTTPResponseStatus, code: String, message: String) {
        self.status = status
        self.code = code
        self.message = message
    }

    package static let missingToken = GraphError(
        status: .unauthorized, code: "InvalidAuthenticationToken", message: "Access token is empty.")
    package static let invalidToken = GraphError(
        status: .unauthorized, code: "InvalidAuthenticationToken",
        message: "Access token validation failure. Invalid audience, issuer, signature or lifetime.")
    package static let insufficientPrivileges = GraphError(
        status: .forbidden, code: "Authorization_RequestDenied",
        message: "Insufficient privileges to complete the operation.")

    package static func notFound(_ key: String) -> GraphError {
        GraphError(
            status: .notFound, code: "Request_ResourceNotFound",
            message:
                "Resource '\(key)' does not exist or one of its queried reference-property objects are not present.")
    }

    /// Graph's envelope for any error: a `GraphError` as it is, a 404 as `Request_ResourceNotFound`, other
    /// client errors as `BadRequest`, anything else as a 500 `generalException` (the error itself goes to the
    /// log only).
    package static func response(for error: any Error, request: Request, now: Date) -> Response {
        let graphError: GraphError
        switch error {
        case let error as GraphError:
            graphError = error
        case let abort as any AbortError where abort.status == .notFound:
            graphError = .notFound(request.url.path)
        case let abort as any AbortError where abort.status.code < 500:
            graphError = GraphError(status: abort.status, code: "BadRequest", message: abort.reason)
        default:
            request.logger.error("Unhandled error", metadata: ["error": "\(String(reflecting: error))"])
            graphError = GraphError(
                status: .internalServerError, code: "generalException", message: "An unexpected error occurred.")
        }
        let body = GraphErrorBody(
            code: graphError.code, message: graphError.message, date: ISO8601DateFormatter().string(from: now),
            requestId: request.id, clientRequestId: request.clientRequestId ?? request.id)
        return Response.json(body, status: graphError.status)
    }
}

extension Request {
    /// The caller's `client-request-id` when it is a GUID, as Microsoft's APIs echo it.
    package var clientRequestId: String? {
        guard let value = headers.first(name: "client-request-id"), UUID(uuidString: value) != nil else { return nil }
        return value.lowercased()
    }
}

extension ProblemDetails {
    /// problem+json for any error: client errors with their reason, anything else a 500 with a generic text (the
    /// error itself goes to the log only). `correlationId` is the request ID of the log lines.
    package static func response(for error: any Error, request: Request) -> Response {
        let problem: ProblemDetails
        switch error {
        case let abort as any AbortError where abort.status.code < 500:
            problem = ProblemDetails(
                title: abort.status.reasonPhrase, status: Int(abort.status.code), detail: abort.reason,
                instance: request.url.path, correlationId: request.id)
        default:
            request.logger.error("Unhandled error", metadata: ["error": "\(String(reflecting: error))"])
            problem = ProblemDetails(
                title: "Internal Server Error", status: 500, detail: "An unexpected error occurred.",
                instance: request.url.path, correlationId: request.id)
        }
        return problem.response(for: request)
    }
}

import Foundation
import ServerSupport
import Vapor
import WireModels

/// A refusal of the Connector's own API with its stable code (problem+json `code`), also mapped to Graph's
/// envelope on the Graph-compatible routes.
struct ConnectorError: AbortError, Sendable {
    let status: HTTPResponseStatus
    let code: ConnectorErrorCode
    let reason: String

    init(_ status: HTTPResponseStatus, _ code: ConnectorErrorCode, _ reason: String) {
        self.status = status
        self.code = code
        self.reason = reason
    }

    static func invalid(_ reason: String) -> ConnectorError { ConnectorError(.badRequest, .invalidRequest, reason) }
    static func notFound(_ reason: String) -> ConnectorError { ConnectorError(.notFound, .notFound, reason) }

    /// The same refusal in Graph's words.
    var graphError: GraphError {
        switch code {
        case .invalidToken, .tenantNotRegistered:
            GraphError(status: .unauthorized, code: "InvalidAuthenticationToken", message: reason)
        case .missingRole, .appIdNotRegistered, .profileNotConfigured, .notAnAdministrator:
            GraphError(status: .forbidden, code: "Authorization_RequestDenied", message: reason)
        case .notFound:
            GraphError(status: .notFound, code: "NotFound", message: reason)
        default:
            GraphError(status: status, code: "BadRequest", message: reason)
        }
    }
}

/// Answers every failure in the shape of the interface it happened on: Graph's envelope under `/v1.0`,
/// problem+json with a stable `code` everywhere else. Every refusal is logged with the request's ID, which the
/// answer carries as `correlationId` (or Graph's `request-id`).
struct ConnectorErrorMiddleware: AsyncMiddleware {
    let now: @Sendable () -> Date

    func respond(to request: Request, chainingTo next: any AsyncResponder) async throws -> Response {
        let response: Response
        do {
            response = try await next.respond(to: request)
        } catch {
            response = answer(error, request: request)
        }
        if let clientRequestId = request.clientRequestId {
            response.headers.replaceOrAdd(name: "client-request-id", value: clientRequestId)
        }
        response.headers.replaceOrAdd(name: "request-id", value: request.id)
        return response
    }

    private func answer(_ error: any Error, request: Request) -> Response {
        let path = request.url.path
        if let refusal = error as? ConnectorError {
            request.logger.notice(
                "Connector request refused",
                metadata: [
                    "code": "\(refusal.code.rawValue)", "status": "\(refusal.status.code)",
                    "reason": "\(refusal.reason)", "path": "\(path)", "correlation_id": "\(request.id)",
                ])
        }
        if path.hasPrefix("/\(ConnectorPath.graphVersion)/") || path.hasPrefix("//\(ConnectorPath.graphVersion)/") {
            let mapped = (error as? ConnectorError).map { $0.graphError as any Error } ?? error
            return GraphError.response(for: mapped, request: request, now: now())
        }
        if let refusal = error as? ConnectorError {
            return ProblemDetails(
                title: refusal.status.reasonPhrase, status: Int(refusal.status.code), detail: refusal.reason,
                code: refusal.code.rawValue, instance: path, correlationId: request.id
            ).response(for: request)
        }
        if let abort = error as? any AbortError, abort.status.code < 500 {
            let code: ConnectorErrorCode =
                switch abort.status {
                case .notFound: .notFound
                case .unauthorized: .invalidToken
                case .conflict: .conflict
                default: .invalidRequest
                }
            // Vapor answers an empty body with a bare 422; the caller sent a bad request and should be told what.
            let empty = abort.status == .unprocessableEntity && (request.body.data?.readableBytes ?? 0) == 0
            let status: HTTPResponseStatus = empty ? .badRequest : abort.status
            let reason = empty ? "The request has no body: send a JSON object." : abort.reason
            request.logger.notice(
                "Connector request refused",
                metadata: [
                    "code": "\(code.rawValue)", "status": "\(status.code)", "reason": "\(reason)", "path": "\(path)",
                    "correlation_id": "\(request.id)",
                ])
            return ProblemDetails(
                title: status.reasonPhrase, status: Int(status.code), detail: reason, code: code.rawValue,
                instance: path, correlationId: request.id
            ).response(for: request)
        }
        request.logger.error(
            "Unhandled error", metadata: ["error": "\(String(reflecting: error))", "correlation_id": "\(request.id)"])
        return ProblemDetails(
            title: "Internal Server Error", status: 500, detail: "An unexpected error occurred.",
            code: ConnectorErrorCode.internalError.rawValue, instance: path, correlationId: request.id
        ).response(for: request)
    }
}

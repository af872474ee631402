import Foundation
import ServerSupport
import Vapor
import WireModels

/// Answers every failure in the shape of the interface it happened on: Entra's error JSON for the
/// OAuth/OIDC endpoints, Graph's envelope under `/v1.0`, problem+json for the admin API.
/// Replaces Vapor's `ErrorMiddleware`; unknown errors become 500s with a generic text.
///
/// A future-based middleware rather than an `AsyncMiddleware`: it wraps every request, and each async
/// middleware adds a hop between the event loop and a task.
struct EntraErrorMiddleware: Middleware {
    let now: @Sendable () -> Date

    func respond(to request: Request, chainingTo next: any Responder) -> EventLoopFuture<Response> {
        next.respond(to: request)
            .flatMapErrorThrowing { error in self.response(for: error, request: request) }
            .map { response in
                if let clientRequestId = request.clientRequestId {
                    response.headers.replaceOrAdd(name: "client-request-id", value: clientRequestId)
                }
                response.headers.replaceOrAdd(name: "x-ms-request-id", value: request.id)
                return response
            }
    }

    private func response(for error: any Error, request: Request) -> Response {
        let path = request.url.path
        if path.hasPrefix("/\(IdentityPath.adminAPI)") {
            return ProblemDetails.response(for: error, request: request)
        }
        if path.hasPrefix("/\(IdentityPath.graphVersion)/") || path.hasPrefix("//\(IdentityPath.graphVersion)/") {
            return GraphError.response(for: error, request: request, now: now())
        }
        return entraResponse(for: error, request: request)
    }

    private func entraResponse(for error: any Error, request: Request) -> Response {
        let identityError: IdentityError
        switch error {
        case let error as IdentityError:
            identityError = error
        case let abort as any AbortError where abort.status == .notFound:
            return notFoundResponse(request)
        case let abort as any AbortError where abort.status == .methodNotAllowed:
            identityError = .methodNotAllowed(request.method.rawValue)
        case let abort as any AbortError where abort.status.code < 500:
            identityError = .malformedRequest
        default:
            request.logger.error("Unhandled error", metadata: ["error": "\(String(reflecting: error))"])
            return Response.json(
                EntraErrorBody(
                    error: "server_error", errorDescription: "An unexpected error occurred.", errorCodes: [],
                    timestamp: Self.entraTimestamp(now()), traceId: request.id.lowercased(),
                    correlationId: request.clientRequestId ?? UUID().uuidString.lowercased()),
                status: .internalServerError)
        }
        request.logger.notice(
            "Identity request refused",
            metadata: [
                "error.kind": "\(identityError.kind.rawValue)", "error.aadsts": "\(identityError.aadsts)",
                "http.path": "\(request.url.path)",
            ])
        let body = Self.body(for: identityError, request: request, now: now())
        let response = Response.json(body, status: identityError.status)
        response.headers.replaceOrAdd(name: .cacheControl, value: "no-store, no-cache")
        return response
    }

    /// Entra answers unknown paths without an AADSTS code; so does Identity, in the same JSON shape.
    private func notFoundResponse(_ request: Request) -> Response {
        let timestamp = Self.entraTimestamp(now())
        let correlationId = request.clientRequestId ?? UUID().uuidString.lowercased()
        return Response.json(
            EntraErrorBody(
                error: "not_found", errorDescription: "The requested endpoint does not exist: \(request.url.path)",
                errorCodes: [], timestamp: timestamp, traceId: request.id.lowercased(), correlationId: correlationId),
            status: .notFound)
    }

    /// Entra's error JSON for a request the server refused before routing (no request ID exists yet).
    static func refusalBody(reason: String, now: Date) -> String {
        let timestamp = entraTimestamp(now)
        let trace = UUID().uuidString.lowercased()
        let error = IdentityError.malformedRequest
        let body = EntraErrorBody(
            error: error.oauthError,
            errorDescription:
                "AADSTS\(error.aadsts): \(error.message) \(reason)\r\nTrace ID: \(trace)\r\nCorrelation ID: \(trace)\r\nTimestamp: \(timestamp)",
            errorCodes: [error.aadsts], timestamp: timestamp, traceId: trace, correlationId: trace)
        return (try? JSONEncoder().encode(body)).map { String(decoding: $0, as: UTF8.self) } ?? "{}"
    }

    static func body(for error: IdentityError, request: Request, now: Date) -> EntraErrorBody {
        let timestamp = entraTimestamp(now)
        let correlationId = request.clientRequestId ?? UUID().uuidString.lowercased()
        let description =
            "AADSTS\(error.aadsts): \(error.message)\r\nTrace ID: \(request.id.lowercased())\r\nCorrelation ID: \(correlationId)\r\nTimestamp: \(timestamp)"
        return EntraErrorBody(
            error: error.oauthError, errorDescription: description, errorCodes: [error.aadsts], timestamp: timestamp,
            traceId: request.id.lowercased(), correlationId: correlationId, suberror: error.suberror)
    }

    static func entraTimestamp(_ date: Date) -> String {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        let c = calendar.dateComponents([.year, .month, .day, .hour, .minute, .second], from: date)
        return String(
            format: "%04d-%02d-%02d %02d:%02d:%02dZ", c.year ?? 0, c.month ?? 0, c.day ?? 0, c.hour ?? 0, c.minute ?? 0,
            c.second ?? 0)
    }
}

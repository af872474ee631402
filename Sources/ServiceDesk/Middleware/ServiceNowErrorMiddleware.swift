import Foundation
import ServerSupport
import Vapor

/// Answers every failure in ServiceNow's error envelope, replacing Vapor's `ErrorMiddleware`.
/// Unknown errors become 500s with a generic message; the full error goes to the log.
struct ServiceNowErrorMiddleware: Middleware {
    func respond(to request: Request, chainingTo next: any Responder) -> EventLoopFuture<Response> {
        next.respond(to: request).flatMapErrorThrowing { error in
            let deskError: DeskError
            switch error {
            case let error as DeskError:
                deskError = error
            case let abort as any AbortError where abort.status == .notFound:
                deskError = DeskError(
                    kind: .notFound, message: "Requested URI does not represent any resource", detail: nil)
            case let abort as any AbortError where abort.status.code < 500:
                deskError = .badRequest(abort.reason, detail: nil)
            default:
                request.logger.error("Unhandled error", metadata: ["error": "\(String(reflecting: error))"])
                deskError = .internalError
            }
            if deskError.kind != .internalError {
                request.logger.notice(
                    "Desk request refused",
                    metadata: ["error.kind": "\(deskError.kind.rawValue)", "http.path": "\(request.url.path)"])
            }
            let response = Response.json(
                ServiceNowErrorBody(message: deskError.message, detail: deskError.detail), status: deskError.status)
            if deskError.kind == .notAuthenticated {
                response.headers.replaceOrAdd(name: .wwwAuthenticate, value: "Basic realm=\"Service-now\"")
            }
            return response
        }
    }
}

import Foundation
import ServerSupport
import Vapor

/// Answers every failure in ServiceNow's error envelope, replacing Vapor's `ErrorMiddleware`; failures of
/// `/oauth_token.do` in OAuth's `{"error", "error_description"}` instead, which is what OAuth clients read.
/// Unknown errors become 500s with a generic message; the full error goes to the log.
struct ServiceNowErrorMiddleware: Middleware {
    func respond(to request: Request, chainingTo next: any Responder) -> EventLoopFuture<Response> {
        next.respond(to: request).flatMapErrorThrowing { error in
            let deskError = Self.deskError(for: error, request: request)
            if deskError.kind != .internalError {
                request.logger.notice(
                    "Desk request refused",
                    metadata: [
                        "error.kind": "\(deskError.kind.rawValue)", "http.path": "\(request.url.path.prefix(200))",
                        "correlation_id": "\(request.correlationId)",
                    ])
            }
            let response: Response
            if OAuthTokenController.handles(request) {
                response = OAuthTokenController.errorResponse(for: deskError)
            } else {
                response = Response.json(
                    ServiceNowErrorBody(message: deskError.message, detail: deskError.detail),
                    status: deskError.status)
            }
            if deskError.kind == .notAuthenticated {
                response.headers.replaceOrAdd(name: .wwwAuthenticate, value: "Basic realm=\"Service-now\"")
            }
            if let wait = deskError.retryAfter {
                response.headers.replaceOrAdd(name: .retryAfter, value: SignInThrottle.retryAfterHeader(wait))
            }
            return response
        }
    }

    static func deskError(for error: any Error, request: Request) -> DeskError {
        switch error {
        case let error as DeskError:
            return error
        case let refusal as CrossScopeRefusal:
            return DeskError(kind: .notAuthorized, message: "Cross-scope access refused", detail: refusal.description)
        case let abort as any AbortError where abort.status == .notFound:
            return DeskError(kind: .notFound, message: "Requested URI does not represent any resource", detail: nil)
        case let abort as any AbortError where abort.status == .payloadTooLarge:
            return DeskError(
                kind: .payloadTooLarge, message: "Request entity too large",
                detail: "The request body is larger than this endpoint accepts")
        case let abort as any AbortError where abort.status.code < 500:
            return .badRequest(abort.reason, detail: nil)
        default:
            request.logger.error(
                "Unhandled error",
                metadata: ["error": "\(String(reflecting: error))", "correlation_id": "\(request.correlationId)"])
            return .internalError
        }
    }
}

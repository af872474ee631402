import Crypto
import Foundation
import Vapor

/// Lets a request to an operator's admin API through only with `Authorization: Bearer {admin token}`; without a
/// configured token the API is off. Tokens are compared as SHA-256 digests, so the time taken says nothing about
/// how much of a guess was right.
package struct AdminTokenMiddleware: AsyncMiddleware {
    let token: String?
    /// The setting that turns the API on, named in the refusal.
    let variable: String

    package init(token: String?, variable: String) {
        self.token = token
        self.variable = variable
    }

    package func respond(to request: Request, chainingTo next: any AsyncResponder) async throws -> Response {
        guard let token else {
            throw Abort(.serviceUnavailable, reason: "The admin API is off: set \(variable) to turn it on.")
        }
        guard let given = request.headers.bearerAuthorization?.token,
            Data(SHA256.hash(data: Data(given.utf8))) == Data(SHA256.hash(data: Data(token.utf8)))
        else {
            throw Abort(.unauthorized, reason: "A valid admin bearer token is required.")
        }
        return try await next.respond(to: request)
    }
}

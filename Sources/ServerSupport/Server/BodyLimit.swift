import Vapor

extension Request {
    private struct ReceivedBodyBytesKey: StorageKey {
        typealias Value = Int
    }

    /// How many body bytes arrived, also when ``GuardedHTTPServer`` did not keep them (over its maximum).
    package var receivedBodyBytes: Int {
        get { storage[ReceivedBodyBytesKey.self] ?? body.data?.readableBytes ?? 0 }
        set { storage[ReceivedBodyBytesKey.self] = newValue }
    }
}

extension Route {
    private static let maxBodySizeKey = "m365.maxBodySize"

    /// The largest body this route takes; ``BodyLimitMiddleware`` refuses a larger one with a 413.
    @discardableResult
    package func maxBodySize(_ size: ByteCount) -> Route {
        userInfo[Self.maxBodySizeKey] = size.value
        return self
    }

    var maxBodySize: Int? { userInfo[Self.maxBodySizeKey] as? Int }
}

/// Refuses a body larger than its route takes (``Route/maxBodySize(_:)``, else the app's default) with a 413,
/// thrown inside the service's error handling so the caller gets it in the interface's shape. Vapor's own server
/// checks this while streaming the body into the route; ``GuardedHTTPServer`` collects bodies first, so the
/// check happens here.
package struct BodyLimitMiddleware: Middleware {
    package init() {}

    package func respond(to request: Request, chainingTo next: any Responder) -> EventLoopFuture<Response> {
        let limit = request.route?.maxBodySize ?? request.application.routes.defaultMaxBodySize.value
        guard request.receivedBodyBytes <= limit else {
            return request.eventLoop.makeFailedFuture(
                Abort(.payloadTooLarge, reason: "The request body is larger than \(limit) bytes."))
        }
        return next.respond(to: request)
    }
}

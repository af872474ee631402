import Vapor

/// Serves `//v1.0/…` as `/v1.0/…`. Microsoft's Graph SDK sends that double slash when its base URL comes from
/// the HTTP client (real Graph serves it), and a URI parser reads `//v1.0` as a host name, so the path would
/// lose its first segment before routing.
package struct NetworkPathMiddleware: AsyncMiddleware {
    package init() {}

    package func respond(to request: Request, chainingTo next: any AsyncResponder) async throws -> Response {
        if request.url.scheme == nil, let host = request.url.host, !host.isEmpty {
            var path = "/" + host
            if let port = request.url.port { path += ":\(port)" }
            path += request.url.path
            request.url = URI(path: path, query: request.url.query)
        }
        return try await next.respond(to: request)
    }
}

import Vapor

/// Refuses a JSON request body that ``StrictJSON`` refuses (trailing commas, deep nesting) before any decoder
/// sees it: Foundation's decoder would accept the first and recurse into the second.
package struct StrictJSONMiddleware: AsyncMiddleware {
    let maxBytes: Int

    package init(maxBytes: Int = 1 << 20) {
        self.maxBytes = maxBytes
    }

    package func respond(to request: Request, chainingTo next: any AsyncResponder) async throws -> Response {
        if [.POST, .PUT, .PATCH].contains(request.method), let type = request.headers.contentType,
            type.subType == "json" || type.subType.hasSuffix("+json")
        {
            let body = try await request.body.collect(upTo: maxBytes)
            do {
                try StrictJSON.check(body.readableBytesView)
            } catch {
                throw Abort(.badRequest, reason: "The request body is not valid JSON: \(error).")
            }
        }
        return try await next.respond(to: request)
    }
}

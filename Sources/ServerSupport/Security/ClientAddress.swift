import Vapor

extension Request {
    /// The caller's address for throttling and logs: the peer, or behind a trusted load balancer the last
    /// `X-Forwarded-For` entry (the one the balancer added; earlier ones are whatever the client sent).
    package func clientAddress(trustingForwardedFor: Bool) -> String? {
        if trustingForwardedFor,
            let forwarded = headers.first(name: .xForwardedFor)?.split(separator: ",").last?
                .trimmingCharacters(in: .whitespaces), !forwarded.isEmpty
        {
            return String(forwarded.prefix(64))
        }
        return remoteAddress?.ipAddress
    }
}

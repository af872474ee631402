import AsyncHTTPClient
import Foundation
import Logging
import NIOCore
import NIOHTTP1
import ServerSupport
import Synchronization

/// An outbound client for tests: answers only the calls registered with ``expect(_:_:status:body:)``, logs
/// every call through the service's log as the real client does (redacted), and fails any call nobody
/// expected with an ``OutboundFailure`` — the call is also kept in ``unexpected`` for the test to assert on.
package final class RecordingHTTPClient: OutboundHTTPClient {
    private struct Expectation {
        let method: HTTPMethod
        let url: String
        let status: HTTPResponseStatus
        let headers: HTTPHeaders
        let body: String
        /// Answers one call only; such answers go first, in the order they were registered.
        let once: Bool
    }

    /// A call as the client saw it: what was sent, before redaction, for the test to inspect.
    package struct Sent: Sendable {
        package let method: HTTPMethod
        package let url: String
        package let headers: HTTPHeaders
        package let body: String
    }

    private let expectations = Mutex<[Expectation]>([])
    private let sent = Mutex<[Sent]>([])
    private let refused = Mutex<[String]>([])

    package init() {}

    /// Answers `method url` (the whole URL, query included) with `status` and `body`, every time it is called.
    package func expect(
        _ method: HTTPMethod, _ url: String, status: HTTPResponseStatus = .ok, headers: HTTPHeaders = [:],
        body: String
    ) {
        expectations.withLock {
            $0.append(
                Expectation(method: method, url: url, status: status, headers: headers, body: body, once: false))
        }
    }

    /// Answers the next call of `method url` only, before any answer registered with ``expect(_:_:status:headers:body:)``.
    package func expectOnce(
        _ method: HTTPMethod, _ url: String, status: HTTPResponseStatus = .ok, headers: HTTPHeaders = [:],
        body: String
    ) {
        expectations.withLock {
            $0.append(
                Expectation(method: method, url: url, status: status, headers: headers, body: body, once: true))
        }
    }

    /// Every call that was answered.
    package var calls: [Sent] { sent.withLock { $0 } }

    /// `METHOD url` of every call nobody expected.
    package var unexpected: [String] { refused.withLock { $0 } }

    package func send(
        _ request: HTTPClientRequest, body: ByteBuffer?, source: String, correlationId: String?, secrets: [String],
        log: any OutboundCallLog, logger: Logger
    ) async throws -> OutboundExchange {
        var call = OutboundCall(
            request, bodySize: body?.readableBytes ?? 0, source: source, correlationId: correlationId,
            secrets: secrets)
        guard
            let match = expectations.withLock({ list -> Expectation? in
                let matches = { (expectation: Expectation) in
                    expectation.method == request.method && expectation.url == request.url
                }
                if let index = list.firstIndex(where: { $0.once && matches($0) }) {
                    return list.remove(at: index)
                }
                return list.last { !$0.once && matches($0) }
            })
        else {
            refused.withLock { $0.append("\(request.method.rawValue) \(request.url)") }
            call.error = "unexpected call in a test"
            let logId = await LoggedHTTPClient.record(call, in: log, logger: logger)
            throw OutboundFailure(host: call.host, reason: "unexpected call in a test", logId: logId)
        }
        sent.withLock {
            $0.append(
                Sent(
                    method: request.method, url: request.url, headers: request.headers,
                    body: body.map { String(buffer: $0) } ?? ""))
        }
        call.status = Int(match.status.code)
        call.responseSize = match.body.utf8.count
        let logId = await LoggedHTTPClient.record(call, in: log, logger: logger)
        var headers: HTTPHeaders = ["Content-Type": "application/json"]
        headers.add(contentsOf: match.headers)
        return OutboundExchange(
            status: match.status, headers: headers, body: ByteBuffer(string: match.body), logId: logId)
    }

    package func shutdown() async throws {}
}

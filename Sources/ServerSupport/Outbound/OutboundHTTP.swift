import AsyncHTTPClient
import Foundation
import Logging
import NIOCore
import NIOHTTP1

/// One outbound call as the services log it: credentials already redacted.
package struct OutboundCall: Sendable {
    package let method: String
    package let host: String
    package let path: String
    /// The URL with credentials in its query redacted.
    package let url: String
    /// `Name: value` lines, credentials redacted.
    package let requestHeaders: String
    package let requestSize: Int
    package let correlationId: String?
    /// What made the call (`oauth`, `oidc`, …).
    package let source: String
    package var status: Int?
    package var responseSize: Int?
    package var milliseconds = 0
    /// Why there was no answer, redacted.
    package var error: String?
}

/// Where a service keeps its outbound calls (the desk: `sys_outbound_http_log`); returns the entry's ID.
package protocol OutboundCallLog: Sendable {
    func record(_ call: OutboundCall) async -> String
}

/// An answer to an outbound call.
package struct OutboundExchange: Sendable {
    package let status: HTTPResponseStatus
    package let headers: HTTPHeaders
    package let body: ByteBuffer
    /// The log entry of this call, for failure messages.
    package let logId: String

    package init(status: HTTPResponseStatus, headers: HTTPHeaders, body: ByteBuffer, logId: String) {
        self.status = status
        self.headers = headers
        self.body = body
        self.logId = logId
    }
}

/// Why an outbound call got no answer, naming the host; the log entry has the details.
package struct OutboundFailure: Error, Sendable, CustomStringConvertible {
    /// A stable reason a caller can act on; `reason` is for people.
    package enum Code: String, Sendable {
        case timedOut
        case connectionRefused
        case tlsFailed
        case other
    }

    package let host: String
    package let reason: String
    package let logId: String
    package let code: Code

    package init(host: String, reason: String, logId: String, code: Code = .other) {
        self.host = host
        self.reason = reason
        self.logId = logId
        self.code = code
    }

    package var description: String { "Could not reach \(host): \(reason)" }
}

/// Every outbound HTTP call a service makes: logged once, with secrets redacted, wherever they appear.
/// ``LoggedHTTPClient`` is the real one; tests use a recording fake that fails on calls nobody expected.
package protocol OutboundHTTPClient: Sendable {
    /// Sends `request`; `secrets` (client secrets, passwords, tokens) never reach the log.
    func send(
        _ request: HTTPClientRequest, body: ByteBuffer?, source: String, correlationId: String?, secrets: [String],
        log: any OutboundCallLog, logger: Logger
    ) async throws -> OutboundExchange

    func shutdown() async throws
}

extension OutboundCall {
    /// The record of `request` before it is sent, redacted.
    package init(_ request: HTTPClientRequest, bodySize: Int, source: String, correlationId: String?, secrets: [String])
    {
        let url = URL(string: request.url)
        self.init(
            method: request.method.rawValue, host: url?.host ?? "unknown host", path: url?.path ?? "",
            url: Redaction.url(request.url, secrets: secrets),
            requestHeaders: Redaction.headers(request.headers, secrets: secrets), requestSize: bodySize,
            correlationId: correlationId, source: source)
    }
}

/// The real client: one AsyncHTTPClient trusting the service's CAs, no redirects, 15 s per answer.
package final class LoggedHTTPClient: OutboundHTTPClient {
    package static let timeout: TimeAmount = .seconds(15)
    package static let maxResponseBytes = 4 * 1024 * 1024

    let client: HTTPClient

    package init(tls: TLSSettings?) throws {
        var configuration = HTTPClient.Configuration()
        if let tls { configuration.tlsConfiguration = try tls.clientConfiguration() }
        configuration.timeout = .init(connect: .seconds(5), read: Self.timeout)
        configuration.redirectConfiguration = .disallow
        // A refused connection is an answer an admin needs now, not after the connect timeout's retries.
        configuration.connectionPool.retryConnectionEstablishment = false
        client = HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
    }

    package func shutdown() async throws {
        try await client.shutdown()
    }

    package func send(
        _ request: HTTPClientRequest, body: ByteBuffer?, source: String, correlationId: String?, secrets: [String],
        log: any OutboundCallLog, logger: Logger
    ) async throws -> OutboundExchange {
        var request = request
        if let body { request.body = .bytes(body) }
        if let correlationId { request.headers.replaceOrAdd(name: "client-request-id", value: correlationId) }
        var call = OutboundCall(
            request, bodySize: body?.readableBytes ?? 0, source: source, correlationId: correlationId,
            secrets: secrets)
        let started = DispatchTime.now()
        do {
            let response = try await client.execute(request, timeout: Self.timeout, logger: logger)
            let responseBody = try await response.body.collect(upTo: Self.maxResponseBytes)
            call.status = Int(response.status.code)
            call.responseSize = responseBody.readableBytes
            call.milliseconds = Self.milliseconds(since: started)
            let logId = await Self.record(call, in: log, logger: logger)
            return OutboundExchange(
                status: response.status, headers: response.headers, body: responseBody, logId: logId)
        } catch {
            let (code, text) = Self.reason(error)
            let reason = Redaction.text(text, secrets: secrets)
            call.error = reason
            call.milliseconds = Self.milliseconds(since: started)
            let logId = await Self.record(call, in: log, logger: logger)
            throw OutboundFailure(host: call.host, reason: reason, logId: logId, code: code)
        }
    }

    /// Writes the call to the process log and to the service's log.
    package static func record(_ call: OutboundCall, in log: any OutboundCallLog, logger: Logger) async -> String {
        let logId = await log.record(call)
        logger.info(
            "Outbound HTTP call",
            metadata: [
                "http.method": "\(call.method)", "http.host": "\(call.host)", "http.path": "\(call.path)",
                "http.status": "\(call.status.map(String.init) ?? "none")", "duration_ms": "\(call.milliseconds)",
                "correlation_id": "\(call.correlationId ?? "")", "error": "\(call.error ?? "")", "log_id": "\(logId)",
            ])
        return logId
    }

    private static func milliseconds(since start: DispatchTime) -> Int {
        Int((DispatchTime.now().uptimeNanoseconds - start.uptimeNanoseconds) / 1_000_000)
    }

    /// A short, readable reason: connection refused, timeout, TLS failure.
    private static func reason(_ error: any Error) -> (OutboundFailure.Code, String) {
        switch error {
        case let error as HTTPClientError
        where error == .connectTimeout || error == .readTimeout
            || error == .deadlineExceeded:
            return (.timedOut, "timed out")
        case let error as HTTPClientError:
            return (.other, "\(error)")
        default:
            let text = String(describing: error)
            if text.contains("connectionRefused") || text.contains("Connection refused") {
                return (.connectionRefused, "connection refused")
            }
            if text.lowercased().contains("certificate") || text.contains("handshake") {
                return (.tlsFailed, "TLS failed (\(text))")
            }
            return (.other, text)
        }
    }
}

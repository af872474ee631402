import AsyncHTTPClient
import Foundation
import Logging
import NIOCore
import NIOHTTP1
import SQLKit
import ServerSupport

/// Every outbound HTTP call the desk makes goes through here: one client trusting the desk's CAs, and one
/// `sys_outbound_http_log` row per call with secrets, tokens and credentials redacted.
final class OutboundHTTP: Sendable {
    struct Exchange: Sendable {
        let status: HTTPResponseStatus
        let headers: HTTPHeaders
        let body: ByteBuffer
        /// The log row of this call, for failure messages.
        let logId: String
    }

    /// Why an outbound call got no answer, naming the host; the log row has the details.
    struct Failure: Error, Sendable, CustomStringConvertible {
        let host: String
        let reason: String
        let logId: String

        var description: String { "Could not reach \(host): \(reason)" }
    }

    static let timeout: TimeAmount = .seconds(15)
    static let maxResponseBytes = 4 * 1024 * 1024

    let client: HTTPClient

    init(tls: TLSSettings?) throws {
        var configuration = HTTPClient.Configuration()
        if let tls { configuration.tlsConfiguration = try tls.clientConfiguration() }
        configuration.timeout = .init(connect: .seconds(5), read: Self.timeout)
        configuration.redirectConfiguration = .disallow
        // A refused connection is an answer an admin needs now, not after the connect timeout's retries.
        configuration.connectionPool.retryConnectionEstablishment = false
        client = HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
    }

    func shutdown() async throws {
        try await client.shutdown()
    }

    /// Sends `request` and records it. `secrets` are values (client secrets, passwords, tokens) that must
    /// never reach the log, wherever they appear.
    func send(
        _ request: HTTPClientRequest, body: ByteBuffer? = nil, source: String, correlationId: String?,
        secrets: [String], sql: any SQLDatabase, now: @escaping @Sendable () -> Date, logger: Logger
    ) async throws -> Exchange {
        var request = request
        if let body { request.body = .bytes(body) }
        if let correlationId { request.headers.replaceOrAdd(name: "client-request-id", value: correlationId) }
        let url = URL(string: request.url)
        let host = url?.host ?? "unknown host"
        let started = DispatchTime.now()
        var entry = Entry(
            method: request.method.rawValue, host: host, path: url?.path ?? "",
            url: Redaction.url(request.url, secrets: secrets),
            requestHeaders: Redaction.headers(request.headers, secrets: secrets),
            requestSize: body?.readableBytes ?? 0, correlationId: correlationId, source: source)
        do {
            let response = try await client.execute(request, timeout: Self.timeout, logger: logger)
            let responseBody = try await response.body.collect(upTo: Self.maxResponseBytes)
            entry.status = Int(response.status.code)
            entry.responseSize = responseBody.readableBytes
            entry.milliseconds = Self.milliseconds(since: started)
            let logId = await record(entry, sql: sql, now: now, logger: logger)
            return Exchange(status: response.status, headers: response.headers, body: responseBody, logId: logId)
        } catch {
            let reason = Redaction.text(Self.reason(error), secrets: secrets)
            entry.error = reason
            entry.milliseconds = Self.milliseconds(since: started)
            let logId = await record(entry, sql: sql, now: now, logger: logger)
            throw Failure(host: host, reason: reason, logId: logId)
        }
    }

    struct Entry: Sendable {
        let method: String
        let host: String
        let path: String
        let url: String
        let requestHeaders: String
        let requestSize: Int
        let correlationId: String?
        let source: String
        var status: Int?
        var responseSize: Int?
        var milliseconds = 0
        var error: String?
    }

    private func record(_ entry: Entry, sql: any SQLDatabase, now: @Sendable () -> Date, logger: Logger) async
        -> String
    {
        let sysId = TableWrite.newSysId()
        logger.info(
            "Outbound HTTP call",
            metadata: [
                "http.method": "\(entry.method)", "http.host": "\(entry.host)", "http.path": "\(entry.path)",
                "http.status": "\(entry.status.map(String.init) ?? "none")", "duration_ms": "\(entry.milliseconds)",
                "correlation_id": "\(entry.correlationId ?? "")", "error": "\(entry.error ?? "")",
            ])
        do {
            try await TableStore(table: DeskTables.outboundHTTPLog, sql: sql).insertSystemRow(
                [
                    "http_method": entry.method, "hostname": entry.host, "path": entry.path, "url": entry.url,
                    "response_status": entry.status, "response_time": entry.milliseconds,
                    "request_size": entry.requestSize, "response_size": entry.responseSize,
                    "request_headers": entry.requestHeaders, "correlation_id": entry.correlationId,
                    "error_message": entry.error, "source": entry.source,
                ], sysId: sysId, at: now())
        } catch {
            logger.error("Outbound HTTP log entry not stored", metadata: ["error": "\(String(reflecting: error))"])
        }
        return sysId
    }

    private static func milliseconds(since start: DispatchTime) -> Int {
        Int((DispatchTime.now().uptimeNanoseconds - start.uptimeNanoseconds) / 1_000_000)
    }

    /// A short, readable reason: connection refused, timeout, TLS failure.
    private static func reason(_ error: any Error) -> String {
        switch error {
        case let error as HTTPClientError
        where error == .connectTimeout || error == .readTimeout
            || error == .deadlineExceeded:
            return "timed out"
        case let error as HTTPClientError:
            return "\(error)"
        default:
            let text = String(describing: error)
            if text.contains("connectionRefused") || text.contains("Connection refused") { return "connection refused" }
            if text.lowercased().contains("certificate") || text.contains("handshake") {
                return "TLS failed (\(text))"
            }
            return text
        }
    }
}

/// Removes secrets from what the logs keep.
enum Redaction {
    static let marker = "[redacted]"
    static let sensitiveHeaders: Set<String> = ["authorization", "proxy-authorization", "cookie", "set-cookie"]
    static let sensitiveParameters = [
        "secret", "token", "password", "passwd", "code", "assertion", "key", "signature", "sig",
    ]

    /// `text` with every non-empty secret replaced (also in its percent-encoded form).
    static func text(_ text: String, secrets: [String]) -> String {
        var result = text
        for secret in secrets where secret.count >= 4 {
            result = result.replacingOccurrences(of: secret, with: marker)
            if let encoded = secret.addingPercentEncoding(withAllowedCharacters: .alphanumerics), encoded != secret {
                result = result.replacingOccurrences(of: encoded, with: marker)
            }
        }
        return result
    }

    /// Headers as `Name: value` lines; credentials and cookies redacted.
    static func headers(_ headers: HTTPHeaders, secrets: [String]) -> String {
        headers.map { name, value in
            sensitiveHeaders.contains(name.lowercased())
                ? "\(name): \(marker)" : "\(name): \(text(value, secrets: secrets))"
        }.joined(separator: "\n")
    }

    /// The URL with the values of query parameters that could carry credentials redacted.
    static func url(_ url: String, secrets: [String]) -> String {
        guard var components = URLComponents(string: url) else { return text(url, secrets: secrets) }
        components.user = nil
        components.password = nil
        components.queryItems = components.queryItems?.map { item in
            let name = item.name.lowercased()
            return sensitiveParameters.contains(where: { name.contains($0) })
                ? URLQueryItem(name: item.name, value: marker) : item
        }
        return text(components.string ?? url, secrets: secrets)
    }
}

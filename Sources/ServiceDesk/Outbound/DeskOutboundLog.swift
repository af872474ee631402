import AsyncHTTPClient
import Foundation
import Logging
import NIOCore
import SQLKit
import ServerSupport

/// The desk's outbound HTTP log (`sys_outbound_http_log`): one row per call, credentials redacted.
struct DeskOutboundLog: OutboundCallLog {
    let sql: any SQLDatabase
    let now: @Sendable () -> Date
    let logger: Logger

    func record(_ call: OutboundCall) async -> String {
        let sysId = TableWrite.newSysId()
        do {
            try await TableStore(table: DeskTables.outboundHTTPLog, sql: sql).insertSystemRow(
                [
                    "http_method": call.method, "hostname": call.host, "path": call.path, "url": call.url,
                    "response_status": call.status, "response_time": call.milliseconds,
                    "request_size": call.requestSize, "response_size": call.responseSize,
                    "request_headers": call.requestHeaders, "correlation_id": call.correlationId,
                    "error_message": call.error, "source": call.source,
                ], sysId: sysId, at: now())
        } catch {
            logger.error("Outbound HTTP log entry not stored", metadata: ["error": "\(String(reflecting: error))"])
        }
        return sysId
    }
}

extension OutboundHTTPClient {
    /// Sends `request` and records it in the desk's outbound HTTP log.
    func send(
        _ request: HTTPClientRequest, body: ByteBuffer? = nil, source: String, correlationId: String?,
        secrets: [String], sql: any SQLDatabase, now: @escaping @Sendable () -> Date, logger: Logger
    ) async throws -> OutboundExchange {
        try await send(
            request, body: body, source: source, correlationId: correlationId, secrets: secrets,
            log: DeskOutboundLog(sql: sql, now: now, logger: logger), logger: logger)
    }
}

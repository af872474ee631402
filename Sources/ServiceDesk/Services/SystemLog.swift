import Foundation
import Logging
import SQLKit

/// The system log (`syslog`) an admin reads in the desk. Every entry also goes to the process log, so an entry
/// is never lost when the database write fails.
struct SystemLog: Sendable {
    enum Level: Int, Sendable {
        case debug = -1
        case information = 0
        case warning = 1
        case error = 2
    }

    let sql: any SQLDatabase
    let now: @Sendable () -> Date
    let logger: Logger

    /// Writes an entry; returns its `sys_id` so a failure message can point at it.
    @discardableResult
    func write(_ level: Level, source: String, _ message: String, correlationId: String?) async -> String {
        let sysId = TableWrite.newSysId()
        let metadata: Logger.Metadata = [
            "syslog.source": "\(source)", "syslog.sys_id": "\(sysId)", "correlation_id": "\(correlationId ?? "")",
        ]
        switch level {
        case .debug: logger.debug("\(message)", metadata: metadata)
        case .information: logger.info("\(message)", metadata: metadata)
        case .warning: logger.warning("\(message)", metadata: metadata)
        case .error: logger.error("\(message)", metadata: metadata)
        }
        do {
            try await TableStore(table: DeskTables.syslog, sql: sql).insertSystemRow(
                ["level": level.rawValue, "source": source, "message": message, "correlation_id": correlationId],
                sysId: sysId, at: now())
        } catch {
            logger.error("System log entry not stored", metadata: ["error": "\(String(reflecting: error))"])
        }
        return sysId
    }
}

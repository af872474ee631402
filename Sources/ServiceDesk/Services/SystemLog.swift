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
        let stamp = DeskTime.format(now())
        do {
            try await sql.insert(into: DeskTables.syslog.databaseTable)
                .columns(
                    "sys_id", "sys_created_on", "sys_created_by", "sys_updated_on", "sys_updated_by", "level", "source",
                    "message", "correlation_id"
                )
                .values(
                    SQLBind(sysId), SQLBind(stamp), SQLBind("system"), SQLBind(stamp), SQLBind("system"),
                    SQLBind(level.rawValue), SQLBind(source), SQLBind(message), SQLBind(correlationId)
                )
                .run()
        } catch {
            logger.error("System log entry not stored", metadata: ["error": "\(String(reflecting: error))"])
        }
        return sysId
    }
}

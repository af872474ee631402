import Foundation
import SQLKit
import Vapor

/// Keeps the system log and the outbound HTTP log to their retention: entries older than `days` go. Runs as a
/// periodic job of the desk's ``JobRunner`` (at start, then hourly, on one instance).
enum LogRetention {
    static let jobName = "desk.log-retention"

    static func sweep(_ application: Application, days: Int) async {
        guard let sql = application.db as? any SQLDatabase else { return }
        let cutoff = DeskTime.format(application.desk.config.now().addingTimeInterval(-Double(days) * 86400))
        for table in [DeskTables.syslog, DeskTables.outboundHTTPLog] {
            do {
                try await sql.delete(from: table.databaseTable).where("sys_created_on", .lessThan, cutoff).run()
            } catch {
                application.logger.warning(
                    "Log retention sweep failed", metadata: ["table": "\(table.name)", "error": "\(error)"])
            }
        }
    }
}

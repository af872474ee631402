import Foundation
import SQLKit
import Synchronization
import Vapor

/// Keeps the system log and the outbound HTTP log to their retention: at start and every hour, entries older
/// than `days` go. Several instances may sweep at once; the deletes do not conflict.
final class LogRetention: LifecycleHandler, Sendable {
    let days: Int
    private let task = Mutex<Task<Void, Never>?>(nil)

    init(days: Int) {
        self.days = days
    }

    func didBootAsync(_ application: Application) async throws {
        guard days > 0 else { return }
        let started = Task { [days] in
            while !Task.isCancelled {
                await Self.sweep(application, days: days)
                try? await Task.sleep(for: .seconds(3600))
            }
        }
        task.withLock { $0 = started }
    }

    func shutdownAsync(_ application: Application) async {
        let running = task.withLock { $0 }
        running?.cancel()
        await running?.value
    }

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

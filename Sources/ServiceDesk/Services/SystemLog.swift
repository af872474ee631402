import FluentKit
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
        await writeEntry(level, source: source, message, sysId: TableWrite.newSysId(), correlationId: correlationId)
    }

    private func writeEntry(_ level: Level, source: String, _ message: String, sysId: String, correlationId: String?)
        async -> String
    {
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

    static let refusalTally = "desk_refusal_tally"

    /// Writes a refused unauthenticated request. The first refusal from a source and client address in a
    /// minute is an entry of its own; the ones after it update that entry (the latest reason and the count)
    /// instead of adding more, so bad credentials sent in a loop leave one entry a minute.
    func writeRefusal(
        source: String, category: String = "", _ message: String, address: String?, correlationId: String?
    ) async {
        let minute = Int(now().timeIntervalSince1970 / 60)
        let key = "\(source)|\(category)|\(address ?? "-")|\(minute)"
        let sysId = TableWrite.newSysId()
        do {
            try await sql.delete(from: Self.refusalTally).where("minute", .lessThan, minute - 1).run()
            try await sql.insert(into: Self.refusalTally).columns("tally_key", "syslog_sys_id", "minute", "count")
                .values(SQLBind(key), SQLBind(sysId), SQLBind(minute), SQLBind(1)).run()
        } catch let error as any DatabaseError where error.isConstraintFailure {
            await repeatRefusal(key: key, message, address: address, correlationId: correlationId)
            return
        } catch {
            logger.error("Refusal tally not updated", metadata: ["error": "\(String(reflecting: error))"])
        }
        _ = await writeEntry(.warning, source: source, message, sysId: sysId, correlationId: correlationId)
    }

    private func repeatRefusal(key: String, _ message: String, address: String?, correlationId: String?) async {
        logger.warning("\(message)", metadata: ["correlation_id": "\(correlationId ?? "")", "syslog.folded": "true"])
        do {
            try await sql.raw(
                "UPDATE \(ident: Self.refusalTally) SET count = count + 1 WHERE tally_key = \(bind: key)"
            ).run()
            guard
                let row = try await sql.select().columns("syslog_sys_id", "count").from(Self.refusalTally)
                    .where("tally_key", .equal, key).first()
            else { return }
            let count = try row.decode(column: "count", as: Int.self)
            let entry = try row.decode(column: "syslog_sys_id", as: String.self)
            try await sql.update(DeskTables.syslog.databaseTable)
                .set(
                    "message",
                    to: "\(message) [\(count) refused requests from \(address ?? "an unknown address") in this "
                        + "minute; this entry shows the latest]"
                )
                .set("correlation_id", to: correlationId)
                .set("sys_updated_on", to: DeskTime.format(now()))
                .where("sys_id", .equal, entry).run()
        } catch {
            logger.error("Refusal tally not updated", metadata: ["error": "\(String(reflecting: error))"])
        }
    }
}

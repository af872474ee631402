import Foundation
import SQLKit

/// The incident rules' arithmetic and lookups (the rules themselves are ``IncidentTable``).
enum TableRules {
    /// ServiceNow's default priority lookup: 1 (critical) for high impact and urgency … 5 (planning) for low and low.
    static func priority(impact: Int?, urgency: Int?) -> Int {
        let impact = min(max(impact ?? 3, 1), 3)
        let urgency = min(max(urgency ?? 3, 1), 3)
        return impact + urgency - 1
    }

    /// States in which an incident is still being worked (`active` is true): New, In Progress, On Hold.
    static let activeStates: Set<Int> = [1, 2, 3]

    /// Resolved (6) and Closed (7) set their times and who did it; reopening clears them. `active` follows the
    /// state.
    static func stampStateChange(
        _ values: inout TableWrite.Values, newState: Int?, oldState: Int?, now: Date, by writer: String?
    ) {
        guard let newState, newState != oldState else { return }
        values["active"] = activeStates.contains(newState)
        let who: any Encodable & Sendable = writer ?? TableWrite.null
        switch newState {
        case 6:
            values["resolved_at"] = DeskTime.format(now)
            values["resolved_by"] = who
        case 7:
            values["closed_at"] = DeskTime.format(now)
            values["closed_by"] = who
            if oldState != 6 {
                values["resolved_at"] = DeskTime.format(now)
                values["resolved_by"] = who
            }
        case 1, 2, 3:
            for field in ["resolved_at", "closed_at", "resolved_by", "closed_by"] { values[field] = TableWrite.null }
        default: break
        }
    }

    /// The `sys_id` of the desk user writing, if the writer is a user (not the system).
    static func userSysId(_ userName: String, sql: any SQLDatabase) async throws -> String? {
        try await sql.select().column("sys_id").from(DeskTables.user.databaseTable)
            .where("user_name", .equal, userName).first()?.decode(column: "sys_id", as: String.self)
    }

    /// `INC0010001`, `INC0010002`, … claimed atomically, so concurrent inserts never share a number.
    static func nextNumber(prefix: String, table: String, sql: any SQLDatabase) async throws -> String {
        let row = try await sql.raw(
            "UPDATE \(ident: NumberCounter.schema) SET last = last + 1 WHERE table_name = \(bind: table) RETURNING last"
        ).first()
        guard let number = try row?.decode(column: "last", as: Int.self) else { throw DeskError.internalError }
        return prefix + String(format: "%07d", number)
    }
}

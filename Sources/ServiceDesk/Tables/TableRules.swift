import Foundation
import SQLKit

/// What ServiceNow's business rules do on insert and update of the desk's tables.
enum TableRules {
    static func beforeInsert(
        table: TableSchema, values: inout TableWrite.Values, sql: any SQLDatabase, now: Date, userName: String
    ) async throws {
        switch table.name {
        case DeskTables.incident.name:
            values["number"] = try await nextNumber(prefix: "INC", table: table.name, sql: sql)
            if values["state"] == nil { values["state"] = 1 }
            if values["impact"] == nil { values["impact"] = 3 }
            if values["urgency"] == nil { values["urgency"] = 3 }
            if values["opened_at"] == nil { values["opened_at"] = DeskTime.format(now) }
            let writer = try await userSysId(userName, sql: sql)
            if values["opened_by"] == nil, let writer { values["opened_by"] = writer }
            values["priority"] = priority(impact: values["impact"] as? Int, urgency: values["urgency"] as? Int)
            stampStateChange(&values, newState: values["state"] as? Int, oldState: nil, now: now, by: writer)
        case DeskTables.user.name:
            if values["active"] == nil { values["active"] = true }
            if values["web_service_access_only"] == nil { values["web_service_access_only"] = false }
            if values["name"] == nil {
                let parts = [values["first_name"] as? String, values["last_name"] as? String].compactMap { $0 }
                values["name"] = parts.isEmpty ? values["user_name"] as? String : parts.joined(separator: " ")
            }
        case DeskTables.oauthEntity.name:
            if values["type"] == nil { values["type"] = "client" }
            if (values["client_id"] as? String)?.isEmpty ?? true { values["client_id"] = TableWrite.newSysId() }
            if values["active"] == nil { values["active"] = true }
            if values["access_token_lifespan"] == nil { values["access_token_lifespan"] = 1800 }
            if values["refresh_token_lifespan"] == nil { values["refresh_token_lifespan"] = 8_640_000 }
            if values["default_grant_type"] == nil, values["type"] as? String == "oauth_provider" {
                values["default_grant_type"] = "client_credentials"
            }
        default:
            break
        }
    }

    static func beforeUpdate(
        table: TableSchema, values: inout TableWrite.Values, existing: TableStore.Record, sql: any SQLDatabase,
        now: Date, userName: String
    ) async throws {
        guard table.name == DeskTables.incident.name else { return }
        func stored(_ field: String) -> Int? { (existing[field] ?? nil).flatMap { Int($0) } }
        let impact = values.keys.contains("impact") ? values["impact"] as? Int : stored("impact")
        let urgency = values.keys.contains("urgency") ? values["urgency"] as? Int : stored("urgency")
        values["priority"] = priority(impact: impact, urgency: urgency)
        if values.keys.contains("state") {
            stampStateChange(
                &values, newState: values["state"] as? Int, oldState: stored("state"), now: now,
                by: try await userSysId(userName, sql: sql))
        }
    }

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
    private static func stampStateChange(
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
    private static func userSysId(_ userName: String, sql: any SQLDatabase) async throws -> String? {
        try await sql.select().column("sys_id").from(DeskTables.user.databaseTable)
            .where("user_name", .equal, userName).first()?.decode(column: "sys_id", as: String.self)
    }

    /// `INC0010001`, `INC0010002`, … claimed atomically, so concurrent inserts never share a number.
    private static func nextNumber(prefix: String, table: String, sql: any SQLDatabase) async throws -> String {
        let row = try await sql.raw(
            "UPDATE \(ident: NumberCounter.schema) SET last = last + 1 WHERE table_name = \(bind: table) RETURNING last"
        ).first()
        guard let number = try row?.decode(column: "last", as: Int.self) else { throw DeskError.internalError }
        return prefix + String(format: "%07d", number)
    }
}

import Foundation
import SQLKit
import ServerSupport
import Synchronization

/// Turns a Table API request body into column values: checks types, hashes passwords, fills the system
/// columns and applies the table's rules (incident numbers, priority, state timestamps).
package struct TableWrite {
    typealias Values = [String: any Encodable & Sendable]

    /// An explicit NULL: assigning a nil optional to a `Values` entry would remove the entry instead.
    static let null: any Encodable & Sendable = String?.none

    let table: TableSchema
    let sql: any SQLDatabase
    let userName: String
    let now: Date
    let hashPassword: @Sendable (String) async throws -> String
    let sealSecret: @Sendable (String) throws -> String

    /// The JSON object of a request body; anything else is a 400 in ServiceNow's words.
    static func fields(of body: Data?) throws -> [String: Any] {
        guard let body, !body.isEmpty else { return [:] }
        do {
            try StrictJSON.check(body)
        } catch {
            throw DeskError.badRequest(
                "Exception while reading request", detail: "The payload is not valid JSON: \(error)")
        }
        guard let object = try? JSONSerialization.jsonObject(with: body) as? [String: Any] else {
            throw DeskError.badRequest("Exception while reading request", detail: "The payload is not valid JSON")
        }
        return object
    }

    func insertValues(_ fields: [String: Any]) async throws -> Values {
        var values = try await converted(fields)
        let sysId = (fields["sys_id"] as? String).flatMap { TableStore.isSysId($0) ? $0 : nil }
        values["sys_id"] = sysId ?? Self.newOrderedSysId()
        let stamp = DeskTime.format(now)
        values["sys_created_on"] = stamp
        values["sys_created_by"] = userName
        values["sys_updated_on"] = stamp
        values["sys_updated_by"] = userName
        try await table.behaviour.beforeInsert(&values, self)
        return values
    }

    func updateValues(_ fields: [String: Any], existing: TableStore.Record) async throws -> Values {
        var values = try await converted(fields)
        values["sys_updated_on"] = DeskTime.format(now)
        values["sys_updated_by"] = userName
        try await table.behaviour.beforeUpdate(&values, existing: existing, self)
        return values
    }

    /// What follows an insert: the journal entries the fields carry, then the table's own rules.
    func afterInsert(_ fields: [String: Any], record: TableStore.Record) async throws {
        guard let sysId = record["sys_id"] ?? nil else { return }
        try await appendJournal(fields, to: sysId)
        try await table.behaviour.afterInsert(fields, record: record, self)
    }

    /// What follows an update: the journal entries, then the table's own rules.
    func afterUpdate(_ fields: [String: Any], record: TableStore.Record) async throws {
        guard let sysId = record["sys_id"] ?? nil else { return }
        try await appendJournal(fields, to: sysId)
        try await table.behaviour.afterUpdate(fields, record: record, self)
    }

    /// A writer for another table in the same transaction, by the same user.
    func writing(_ other: TableSchema) -> TableWrite {
        TableWrite(
            table: other, sql: sql, userName: userName, now: now, hashPassword: hashPassword, sealSecret: sealSecret)
    }

    /// Appends the journal entries (`work_notes`, `comments`) the fields carry to the record `sysId`.
    func appendJournal(_ fields: [String: Any], to sysId: String) async throws {
        for column in table.columns where column.type == .journal {
            guard let raw = fields[column.name], let text = Self.text(raw), !text.isEmpty else { continue }
            try await TableStore(table: DeskTables.journal, sql: sql).insertSystemRow(
                ["name": table.name, "element": column.name, "element_id": sysId, "value": text],
                sysId: Self.newOrderedSysId(), by: userName, at: now)
        }
    }

    /// 32 lowercase hex characters, as ServiceNow's `sys_id`.
    package static func newSysId() -> String {
        UUID().uuidString.replacingOccurrences(of: "-", with: "").lowercased()
    }

    /// A `sys_id` that sorts after every one this process made before: the microseconds of the wall clock (never
    /// going back), then randomness. Records get these, so lists ordered by a field and then `sys_id` show records
    /// written within one second (a case opened and its first update) in the order they were written, and an
    /// index on (field, sys_id) serves such a list without a sort.
    static func newOrderedSysId() -> String {
        let micros = lastOrderedMicros.withLock { last in
            last = max(last + 1, UInt64(max(0, Date().timeIntervalSince1970 * 1_000_000)))
            return last
        }
        let time = String(micros, radix: 16)
        let padded = String(repeating: "0", count: max(0, 14 - time.count)) + time
        return String(padded.suffix(14)) + String(newSysId().prefix(18))
    }

    private static let lastOrderedMicros = Mutex<UInt64>(0)

    private func converted(_ fields: [String: Any]) async throws -> Values {
        var values = Values()
        for (name, raw) in fields {
            // Unknown and system-set fields are ignored, as ServiceNow does.
            guard let column = table.column(name), !column.readOnly else { continue }
            let text = Self.text(raw)
            // PostgreSQL refuses NUL in text; no field of the desk has a use for it (passwords say so in their rules).
            if column.type != .password, let text, text.utf8.contains(0) {
                throw invalid(name, "a value with a NUL character")
            }
            switch column.type {
            case .string:
                values[name] = text
            case .integer:
                guard let text, !text.isEmpty else {
                    values[name] = Self.null
                    continue
                }
                guard let number = InputNumber.parse(text, in: column.range ?? Int.min...Int.max) else {
                    throw invalid(name, text)
                }
                values[name] = number
            case .boolean:
                guard let text else { throw invalid(name, "null") }
                switch text.lowercased() {
                case "true", "1": values[name] = true
                case "false", "0", "": values[name] = false
                default: throw invalid(name, text)
                }
            case .dateTime:
                guard let text, !text.isEmpty else {
                    values[name] = Self.null
                    continue
                }
                guard DeskTime.parse(text) != nil else { throw invalid(name, text) }
                values[name] = text
            case .reference(let target):
                guard let text, !text.isEmpty else {
                    values[name] = Self.null
                    continue
                }
                guard let targetTable = DeskTables.named(target),
                    let sysId = try await referencedSysId(text, in: targetTable)
                else { throw invalid(name, text) }
                values[name] = sysId
            case .password:
                guard let text, !text.isEmpty else { continue }
                if let violation = PasswordRules.violation(text) {
                    throw DeskError.badRequest("Invalid password for field '\(name)'", detail: violation.description)
                }
                values[name] = try await hashPassword(text)
            case .secret:
                guard let text, !text.isEmpty else { continue }
                values[name] = try sealSecret(text)
            case .journal:
                continue
            }
        }
        return values
    }

    /// The record a reference names: its `sys_id`, or, as ServiceNow resolves a reference set to a display
    /// value, the one record whose display column (a user's name; for users also the user ID) equals it.
    private func referencedSysId(_ text: String, in target: TableSchema) async throws -> String? {
        if TableStore.isSysId(text), try await TableStore(table: target, sql: sql).find(text) != nil { return text }
        let columns = [target.displayColumn] + target.behaviour.referenceKeys
        for column in columns where column != "sys_id" {
            let rows = try await sql.select().column("sys_id").from(target.databaseTable)
                .where(SQLIdentifier(column), .equal, SQLBind(text)).limit(2).all()
            if rows.count == 1 { return try rows[0].decode(column: "sys_id", as: String.self) }
        }
        return nil
    }

    private func invalid(_ field: String, _ value: String) -> DeskError {
        .badRequest("Invalid value for field '\(field)'", detail: "'\(value.prefix(100))' is not a valid value")
    }

    static func text(_ raw: Any) -> String? {
        switch raw {
        case let string as String: string
        case is NSNull: nil
        // JSON booleans arrive as NSNumbers whose type code is `c` (char); `as Bool` would also take 0 and 1.
        case let number as NSNumber where number.objCType.pointee == CChar(UInt8(ascii: "c")):
            number.boolValue ? "true" : "false"
        case let number as NSNumber: number.stringValue
        default: String(describing: raw)
        }
    }
}

/// ServiceNow's date-time format: `YYYY-MM-DD HH:MM:SS`, UTC here.
package enum DeskTime {
    package static func format(_ date: Date) -> String {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        let c = calendar.dateComponents([.year, .month, .day, .hour, .minute, .second], from: date)
        return String(
            format: "%04d-%02d-%02d %02d:%02d:%02d", c.year ?? 0, c.month ?? 0, c.day ?? 0, c.hour ?? 0,
            c.minute ?? 0, c.second ?? 0)
    }

    package static func parse(_ text: String) -> Date? {
        guard text.wholeMatch(of: /\d{4}-\d\d-\d\d \d\d:\d\d:\d\d/) != nil else { return nil }
        return ISO8601DateFormatter().date(from: text.replacingOccurrences(of: " ", with: "T") + "Z")
    }
}

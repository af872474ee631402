import Foundation
import ServerSupport

/// The Table API's `{"result": …}` answer written directly: each record's fields in the table's column order
/// (stable and readable, as ServiceNow's), and without Foundation's `Any` bridging, which cost more than the
/// rest of a list request's JSON work.
enum TableJSON {
    /// `records` as presented by ``RecordPresenter`` (values are strings or string dictionaries); nil when a
    /// value has another shape, so the caller falls back to `JSONSerialization`.
    static func envelope(_ records: [[String: Any]], single: Bool, table: TableSchema) -> [UInt8]? {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(records.count * 1024 + 16)
        bytes.append(contentsOf: Array(#"{"result":"#.utf8))
        if !single { bytes.append(UInt8(ascii: "[")) }
        for (index, record) in records.enumerated() {
            if index > 0 { bytes.append(UInt8(ascii: ",")) }
            guard append(record, table: table, to: &bytes) else { return nil }
        }
        if !single { bytes.append(UInt8(ascii: "]")) }
        bytes.append(UInt8(ascii: "}"))
        return bytes
    }

    private static func append(_ record: [String: Any], table: TableSchema, to bytes: inout [UInt8]) -> Bool {
        bytes.append(UInt8(ascii: "{"))
        var first = true
        for column in table.columns {
            guard let value = record[column.name] else { continue }
            if !first { bytes.append(UInt8(ascii: ",")) }
            first = false
            JSONText.appendString(column.name, to: &bytes)
            bytes.append(UInt8(ascii: ":"))
            switch value {
            case let text as String:
                JSONText.appendString(text, to: &bytes)
            case let object as [String: String]:
                bytes.append(UInt8(ascii: "{"))
                for (index, key) in object.keys.sorted().enumerated() {
                    if index > 0 { bytes.append(UInt8(ascii: ",")) }
                    JSONText.appendString(key, to: &bytes)
                    bytes.append(UInt8(ascii: ":"))
                    JSONText.appendString(object[key] ?? "", to: &bytes)
                }
                bytes.append(UInt8(ascii: "}"))
            default:
                return false
            }
        }
        bytes.append(UInt8(ascii: "}"))
        return true
    }
}

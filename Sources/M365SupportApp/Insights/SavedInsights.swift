import Foundation
import SQLKit
import ServiceDesk

/// A solution or service health issue kept with an incident because a user opened it or marked it helpful, so
/// the incident still shows it after it is resolved and reopened (and when the Connector is away).
struct SavedInsight: Sendable, Encodable, Equatable {
    enum Kind: String, Sendable, Encodable {
        case solution
        case healthIssue = "health_issue"
    }

    let kind: Kind
    let itemId: String
    let title: String
    /// The article's product, or the issue's service.
    let detail: String
    let url: String
    let snippet: String
    var opened: Bool
    var helpful: Bool
    let savedBy: String
    let updatedAt: Date

    /// Longest stored text of each field: a result comes from outside (the Connector, the form).
    static let limits = (itemId: 200, title: 500, detail: 200, url: 2000, snippet: 2000)
}

/// The app's `x_mioms_m365_assis_insight` table.
struct SavedInsights: Sendable {
    static let table = "x_mioms_m365_assis_insight"

    let sql: any SQLDatabase

    func list(incident: String) async throws -> [SavedInsight] {
        try await sql.select().column("*").from(Self.table).where("incident", .equal, incident)
            .orderBy("updated_at", .descending).limit(200).all()
            .compactMap { row in
                guard let kind = SavedInsight.Kind(rawValue: try row.decode(column: "kind", as: String.self)) else {
                    return nil
                }
                return SavedInsight(
                    kind: kind, itemId: try row.decode(column: "item_id", as: String.self),
                    title: try row.decode(column: "title", as: String.self),
                    detail: try row.decode(column: "detail", as: String?.self) ?? "",
                    url: try row.decode(column: "url", as: String?.self) ?? "",
                    snippet: try row.decode(column: "snippet", as: String?.self) ?? "",
                    opened: try row.decode(column: "opened", as: Bool.self),
                    helpful: try row.decode(column: "helpful", as: Bool.self),
                    savedBy: try row.decode(column: "saved_by", as: String?.self) ?? "",
                    updatedAt: Date(timeIntervalSince1970: try row.decode(column: "updated_at", as: Double.self)))
            }
    }

    /// Records that `item` was opened or marked (un)helpful; the first record of an item keeps its texts.
    func record(
        incident: String, kind: SavedInsight.Kind, itemId: String, title: String, detail: String, url: String,
        snippet: String, opened: Bool?, helpful: Bool?, by userName: String, at now: Date
    ) async throws {
        let limits = SavedInsight.limits
        let stamp = now.timeIntervalSince1970
        try await sql.insert(into: Self.table)
            .columns(
                "id", "incident", "kind", "item_id", "title", "detail", "url", "snippet", "opened", "helpful",
                "saved_by", "created_at", "updated_at"
            )
            .values(
                SQLBind(TableWrite.newSysId()), SQLBind(incident), SQLBind(kind.rawValue),
                SQLBind(String(itemId.prefix(limits.itemId))), SQLBind(String(title.prefix(limits.title))),
                SQLBind(String(detail.prefix(limits.detail))), SQLBind(String(url.prefix(limits.url))),
                SQLBind(String(snippet.prefix(limits.snippet))), SQLBind(opened ?? false), SQLBind(helpful ?? false),
                SQLBind(userName), SQLBind(stamp), SQLBind(stamp)
            )
            .onConflict(with: ["incident", "kind", "item_id"]) { conflict in
                var conflict = conflict.set("updated_at", to: SQLBind(stamp)).set("saved_by", to: SQLBind(userName))
                if let opened, opened { conflict = conflict.set("opened", to: SQLBind(true)) }
                if let helpful { conflict = conflict.set("helpful", to: SQLBind(helpful)) }
                return conflict
            }
            .run()
    }
}

/// A snippet as Leaf renders it: the Connector's `<c0>` marks and `<ddd/>` cuts become parts, and every other
/// character is text Leaf escapes — the panel never puts the Connector's markup into the page as it is.
struct SnippetParts: Encodable, Sendable, Equatable {
    struct Part: Encodable, Sendable, Equatable {
        let text: String
        let marked: Bool
    }

    let parts: [Part]

    init(_ snippet: String) {
        // A scan of the bytes: the snippet's only tags are these three, and every other `<` is escaped.
        var parts: [Part] = []
        var marked = false
        var text: [UInt8] = []
        func flush() {
            guard !text.isEmpty else { return }
            let plain = String(decoding: text, as: UTF8.self)
            parts.append(Part(text: plain.contains("&") ? Self.unescaped(plain) : plain, marked: marked))
            text.removeAll(keepingCapacity: true)
        }
        let bytes = Array(snippet.utf8)
        var index = 0
        while index < bytes.count {
            if bytes[index] == UInt8(ascii: "<") {
                let rest = bytes[index...]
                if rest.starts(with: Self.open) {
                    flush()
                    marked = true
                    index += Self.open.count
                    continue
                }
                if rest.starts(with: Self.close) {
                    flush()
                    marked = false
                    index += Self.close.count
                    continue
                }
                if rest.starts(with: Self.cut) {
                    flush()
                    parts.append(Part(text: "…", marked: false))
                    index += Self.cut.count
                    continue
                }
            }
            text.append(bytes[index])
            index += 1
        }
        flush()
        self.parts = parts
    }

    private static let open = Array("<c0>".utf8)
    private static let close = Array("</c0>".utf8)
    private static let cut = Array("<ddd/>".utf8)

    private static func unescaped(_ text: String) -> String {
        text.replacingOccurrences(of: "&lt;", with: "<").replacingOccurrences(of: "&gt;", with: ">")
            .replacingOccurrences(of: "&quot;", with: "\"").replacingOccurrences(of: "&#39;", with: "'")
            .replacingOccurrences(of: "&amp;", with: "&")
    }
}

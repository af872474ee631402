import Foundation
import ServerSupport
import WireModels

/// Service health written as Graph writes it, straight to bytes: absent values are `null`, `$select` keeps only
/// the named properties (and `id`), and stored `posts` and `details` — already JSON in Graph's shape — are
/// copied in rather than decoded and encoded again. Foundation's JSON serializers cost more here than the rest
/// of the request.
struct GraphJSON {
    private(set) var bytes: [UInt8] = []
    private var needsComma: [Bool] = []

    /// The properties to write; nil: all.
    let select: Set<String>?

    init(select: [String]? = nil) {
        self.select = select.flatMap { $0.contains("*") ? nil : Set($0 + ["id"]) }
    }

    // MARK: Resources

    mutating func issue(_ stored: HealthStore.StoredIssue) {
        beginObject()
        fields(stored.issue)
        if wants("details") { raw("details", stored.detailsJSON ?? "[]") }
        if wants("posts") { raw("posts", stored.postsJSON ?? "[]") }
        endObject()
    }

    /// A whole issue, as the operator API answers a change.
    mutating func issue(_ issue: ServiceHealthIssue) {
        beginObject()
        fields(issue)
        let details = (try? GraphDate.encoder.encode(issue.details ?? [])).map { String(decoding: $0, as: UTF8.self) }
        let posts = (try? GraphDate.encoder.encode(issue.posts ?? [])).map { String(decoding: $0, as: UTF8.self) }
        raw("details", details ?? "[]")
        raw("posts", posts ?? "[]")
        endObject()
    }

    /// A service; with `issues`, its issues newest first (`$expand=issues`).
    mutating func service(_ service: ServiceHealthOverview, issues: [HealthStore.StoredIssue]?) {
        beginObject()
        string("id", service.id)
        string("service", service.service)
        string("status", service.status)
        // Expanded navigation properties are part of the answer whatever `$select` names (OData 4.01 §5.1.3).
        if let issues {
            key("issues")
            let own = issues.filter { $0.issue.service?.caseInsensitiveCompare(service.service) == .orderedSame }
                .sorted {
                    ($0.issue.lastModifiedDateTime ?? .distantPast) > ($1.issue.lastModifiedDateTime ?? .distantPast)
                }
            var inner = GraphJSON()
            inner.bytes.append(UInt8(ascii: "["))
            for (index, issue) in own.enumerated() {
                if index > 0 { inner.bytes.append(UInt8(ascii: ",")) }
                inner.issue(issue)
            }
            inner.bytes.append(UInt8(ascii: "]"))
            bytes += inner.bytes
        }
        endObject()
    }

    private mutating func fields(_ issue: ServiceHealthIssue) {
        string("id", issue.id)
        string("title", issue.title)
        date("startDateTime", issue.startDateTime)
        date("endDateTime", issue.endDateTime)
        date("lastModifiedDateTime", issue.lastModifiedDateTime)
        string("impactDescription", issue.impactDescription)
        string("classification", issue.classification)
        string("origin", issue.origin)
        string("status", issue.status)
        string("service", issue.service)
        string("feature", issue.feature)
        string("featureGroup", issue.featureGroup)
        if wants("isResolved") {
            key("isResolved")
            bytes += Array((issue.isResolved.map { $0 ? "true" : "false" } ?? "null").utf8)
        }
    }

    // MARK: Writing

    func wants(_ name: String) -> Bool { select?.contains(name) ?? true }

    mutating func beginObject() {
        bytes.append(UInt8(ascii: "{"))
        needsComma.append(false)
    }

    mutating func endObject() {
        bytes.append(UInt8(ascii: "}"))
        needsComma.removeLast()
    }

    mutating func key(_ name: String) {
        if needsComma.last == true { bytes.append(UInt8(ascii: ",")) }
        if !needsComma.isEmpty { needsComma[needsComma.count - 1] = true }
        JSONText.appendString(name, to: &bytes)
        bytes.append(UInt8(ascii: ":"))
    }

    mutating func string(_ name: String, _ value: String?) {
        guard wants(name) else { return }
        key(name)
        if let value { JSONText.appendString(value, to: &bytes) } else { bytes += Array("null".utf8) }
    }

    mutating func date(_ name: String, _ value: Date?) {
        string(name, value.map(GraphDate.string))
    }

    /// JSON this code wrote itself (stored posts and details), copied as it is.
    mutating func raw(_ name: String, _ json: String) {
        key(name)
        bytes += Array(json.utf8)
    }

    /// Always written, whatever `$select` says (`@odata.*` annotations, `value`).
    mutating func annotation(_ name: String, _ value: String) {
        key(name)
        JSONText.appendString(value, to: &bytes)
    }

    mutating func annotation(_ name: String, _ value: Int) {
        key(name)
        bytes += Array(String(value).utf8)
    }

    /// `"value":[…]` with each item written by `item`.
    mutating func array<Item>(_ name: String, _ items: some Collection<Item>, _ item: (inout GraphJSON, Item) -> Void) {
        key(name)
        bytes.append(UInt8(ascii: "["))
        for (index, element) in items.enumerated() {
            if index > 0 { bytes.append(UInt8(ascii: ",")) }
            item(&self, element)
        }
        bytes.append(UInt8(ascii: "]"))
    }
}

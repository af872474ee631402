import Foundation
import SQLKit
import ServiceDesk
import WireModels

/// A Microsoft support case kept with an incident, with its thread as the desk received it.
struct CaseRecord: Sendable, Encodable, Equatable {
    let number: String
    let incident: String
    let ticketNumber: String
    let title: String
    let severity: String
    var status: String
    let contactEmail: String
    let testEnvironment: Bool
    let openedBy: String
    let createdAt: Date
    var updatedAt: Date
    var updates: [CaseUpdate]
}

/// One entry of a case's thread: an update from Microsoft support (delivered as an event), a status change, or
/// a reply the desk sent.
struct CaseUpdate: Sendable, Encodable, Equatable {
    let id: String
    let sequence: Int
    /// `support`, `customer` or `system`.
    let source: String
    let author: String
    let text: String
    let status: String?
    let createdAt: Date
}

/// The app's `x_mioms_m365_assis_case` and `…_case_update` tables. An update's ID is the ID of the event that
/// delivered it (or of the desk's reply), and the table's key: an event delivered twice is applied once.
struct CaseStore: Sendable {
    static let cases = "x_mioms_m365_assis_case"
    static let updates = "x_mioms_m365_assis_case_update"
    /// A case's thread shown on the incident is cut here; the Connector keeps the whole thread.
    static let threadLimit = 500

    let sql: any SQLDatabase

    /// The cases of an incident, newest first, each with its thread (oldest first).
    func cases(incident: String) async throws -> [CaseRecord] {
        let rows = try await sql.select().column("*").from(Self.cases).where("incident", .equal, incident)
            .orderBy("created_at", .descending).limit(50).all()
        var result: [CaseRecord] = []
        for row in rows {
            var record = try Self.record(row)
            record.updates = try await thread(record.number)
            result.append(record)
        }
        return result
    }

    /// The case with its thread, or without (`withThread: false`: the inbound path needs only the case).
    func find(number: String, withThread: Bool = true) async throws -> CaseRecord? {
        guard let row = try await sql.select().column("*").from(Self.cases).where("number", .equal, number).first()
        else { return nil }
        var record = try Self.record(row)
        if withThread { record.updates = try await thread(number) }
        return record
    }

    func thread(_ number: String) async throws -> [CaseUpdate] {
        try await sql.select().column("*").from(Self.updates).where("case_number", .equal, number)
            .orderBy("sequence").orderBy("received_at").limit(Self.threadLimit).all().map { row in
                CaseUpdate(
                    id: try row.decode(column: "id", as: String.self),
                    sequence: try row.decode(column: "sequence", as: Int.self),
                    source: try row.decode(column: "source", as: String.self),
                    author: try row.decode(column: "author", as: String.self),
                    text: try row.decode(column: "text", as: String.self),
                    status: try row.decode(column: "status", as: String?.self),
                    createdAt: Date(timeIntervalSince1970: try row.decode(column: "created_at", as: Double.self)))
            }
    }

    private static func record(_ row: any SQLRow) throws -> CaseRecord {
        CaseRecord(
            number: try row.decode(column: "number", as: String.self),
            incident: try row.decode(column: "incident", as: String.self),
            ticketNumber: try row.decode(column: "ticket_number", as: String.self),
            title: try row.decode(column: "title", as: String.self),
            severity: try row.decode(column: "severity", as: String.self),
            status: try row.decode(column: "status", as: String.self),
            contactEmail: try row.decode(column: "contact_email", as: String.self),
            testEnvironment: try row.decode(column: "test_environment", as: Bool.self),
            openedBy: try row.decode(column: "opened_by", as: String?.self) ?? "",
            createdAt: Date(timeIntervalSince1970: try row.decode(column: "created_at", as: Double.self)),
            updatedAt: Date(timeIntervalSince1970: try row.decode(column: "updated_at", as: Double.self)),
            updates: [])
    }

    /// Keeps a case the Connector opened (or already had: the create is idempotent). A row an event created first
    /// (it knows no title or contact) gets the case's details; a kept case is left as it is.
    static func keep(
        _ request: ServiceRequest, incident: String, openedBy: String, at now: Date, sql: any SQLDatabase
    ) async throws {
        try await sql.insert(into: cases)
            .columns(
                "id", "number", "incident", "ticket_number", "tenant_id", "repository_id", "title", "severity",
                "status", "contact_email", "test_environment", "opened_by", "last_sequence", "created_at",
                "updated_at"
            )
            .values(
                SQLBind(TableWrite.newSysId()), SQLBind(request.number), SQLBind(incident),
                SQLBind(request.ticketNumber), SQLBind(request.tenantId), SQLBind(request.repositoryId),
                SQLBind(String(request.title.prefix(ServiceRequestInput.maxTitle))), SQLBind(request.severity),
                SQLBind(request.status), SQLBind(request.contact.email), SQLBind(request.testEnvironment),
                SQLBind(openedBy), SQLBind(0), SQLBind(request.createdAt.timeIntervalSince1970),
                SQLBind(now.timeIntervalSince1970)
            )
            .onConflict(with: ["number"]) { conflict in
                conflict.set(excludedValueOf: "title").set(excludedValueOf: "contact_email")
                    .set(excludedValueOf: "test_environment").set(excludedValueOf: "opened_by")
                    .set(excludedValueOf: "tenant_id").set(excludedValueOf: "repository_id")
                    .where(SQLColumn("contact_email", table: cases), .equal, SQLBind(""))
            }
            .run()
    }

    /// Stores an entry of the thread; false when an entry with its ID is already there.
    @discardableResult
    static func insert(_ update: CaseUpdate, caseNumber: String, at now: Date, sql: any SQLDatabase) async throws
        -> Bool
    {
        let exists =
            try await sql.select().column("id").from(updates).where("id", .equal, update.id).first() != nil
        if exists { return false }
        try await sql.insert(into: updates)
            .columns("id", "case_number", "sequence", "source", "author", "text", "status", "created_at", "received_at")
            .values(
                SQLBind(update.id), SQLBind(caseNumber), SQLBind(update.sequence), SQLBind(update.source),
                SQLBind(update.author), SQLBind(update.text), SQLBind(update.status),
                SQLBind(update.createdAt.timeIntervalSince1970), SQLBind(now.timeIntervalSince1970)
            )
            .run()
        return true
    }

    /// Moves the case on to the update with `sequence`: only a later update than the last one applied sets the
    /// status, so a late event never winds the status back.
    static func advance(
        _ number: String, sequence: Int, status: String?, at now: Date, sql: any SQLDatabase
    ) async throws {
        var update = sql.update(cases).set("updated_at", to: SQLBind(now.timeIntervalSince1970))
        if let status { update = update.set("status", to: SQLBind(status)) }
        try await update.set("last_sequence", to: SQLBind(sequence)).where("number", .equal, number)
            .where("last_sequence", .lessThan, sequence).run()
    }

    /// Case statuses in the words the tab shows.
    static func statusText(_ status: String) -> String {
        switch status {
        case "new": "New"
        case "inProgress": "In progress"
        case "waitingOnCustomer": "Waiting on customer"
        case "resolved": "Resolved"
        case "closed": "Closed"
        default: status
        }
    }

    /// Microsoft's severities from the incident's priority: 1 → A (critical), 2 → B, others → C.
    static func severity(forPriority priority: String?) -> String {
        switch priority?.trimmingCharacters(in: .whitespaces).prefix(1) {
        case "1": "A"
        case "2": "B"
        default: "C"
        }
    }

    static func severityText(_ severity: String) -> String {
        switch severity {
        case "A": "A — critical impact"
        case "B": "B — moderate impact"
        case "C": "C — minimal impact"
        default: severity
        }
    }
}

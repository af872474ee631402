import Fluent
import Foundation
import SQLKit
import Vapor
import WireModels

/// Support cases and their threads. Every change the desk must hear of (an engineer's update, a status change)
/// writes its delivery to the outbox in the same transaction as the change, so no change is ever stored without
/// its delivery or delivered without being stored.
struct ServiceRequestStore: Sendable {
    let database: any Database
    let now: @Sendable () -> Date

    static let requests = "connector_service_requests"
    static let updates = "connector_sr_updates"
    static let outbox = "connector_outbox"

    /// Where an update came from.
    enum Source: String, Sendable {
        /// An engineer of the support team (delivered to the desk).
        case support
        /// The desk, for the customer (the desk already has it: not delivered back).
        case customer
        /// A status change (delivered when support made it).
        case system
    }

    private struct Row: Decodable {
        let id: String
        let number: String
        let tenant_id: String
        let repository_id: String
        let ticket_number: String
        let ticket_url: String?
        let title: String
        let description: String
        let severity: String
        let status: String
        let contact_email: String
        let contact_name: String?
        let contact_phone: String?
        let test_environment: Bool
        let created_at: Double
        let updated_at: Double

        func wire(updates: [ServiceRequest.Update]?) -> ServiceRequest {
            ServiceRequest(
                number: number, tenantId: tenant_id, repositoryId: repository_id, ticketNumber: ticket_number,
                ticketUrl: ticket_url, title: title, description: description, severity: severity, status: status,
                contact: .init(email: contact_email, name: contact_name, phone: contact_phone),
                testEnvironment: test_environment, createdAt: Date(timeIntervalSince1970: created_at),
                updatedAt: Date(timeIntervalSince1970: updated_at), updates: updates)
        }
    }

    private struct UpdateRow: Decodable {
        let id: String
        let sequence: Int
        let source: String
        let author: String
        let text: String
        let status: String?
        let created_at: Double

        var wire: ServiceRequest.Update {
            .init(
                id: id, sequence: sequence, from: source, author: author, text: text, status: status,
                createdAt: Date(timeIntervalSince1970: created_at))
        }
    }

    // MARK: Reading

    func find(tenant: String?, number: String) async throws -> ServiceRequest? {
        let sql = try database.asSQL()
        var query = sql.select().columns("*").from(Self.requests).where("number", .equal, number)
        if let tenant { query = query.where("tenant_id", .equal, tenant) }
        guard let row = try await query.first(decoding: Row.self) else { return nil }
        let updates = try await sql.select().columns("*").from(Self.updates).where("request_id", .equal, row.id)
            .orderBy("sequence").all(decoding: UpdateRow.self).map(\.wire)
        return row.wire(updates: updates)
    }

    /// The case or a 404 that does not tell another tenant's case from no case.
    func require(tenant: String?, number: String) async throws -> ServiceRequest {
        guard let found = try await find(tenant: tenant, number: number) else {
            throw ConnectorError.notFound("There is no service request \(number.prefix(40)).")
        }
        return found
    }

    /// Cases newest change first, without their threads.
    func list(tenant: String?, status: String? = nil, limit: Int = 100) async throws -> [ServiceRequest] {
        var query = try database.asSQL().select().columns("*").from(Self.requests)
        if let tenant { query = query.where("tenant_id", .equal, tenant) }
        if let status { query = query.where("status", .equal, status) }
        return try await query.orderBy("updated_at", .descending).limit(max(1, min(limit, 1000)))
            .all(decoding: Row.self).map { $0.wire(updates: nil) }
    }

    // MARK: Writing

    /// Opens a case, or returns the one an earlier request with the same idempotency key opened.
    func create(tenant: String, appId: String, _ input: ServiceRequestInput) async throws
        -> (request: ServiceRequest, created: Bool)
    {
        if let existing = try await byKey(tenant: tenant, key: input.idempotencyKey) { return (existing, false) }
        let stamp = now().timeIntervalSince1970
        do {
            let number = try await database.transaction { database -> String in
                let sql = try database.asSQL()
                guard
                    let value = try await sql.raw(
                        """
                        UPDATE connector_counters SET value = value + 1 WHERE name = 'service_request' RETURNING value
                        """
                    ).first()?.decode(column: "value", as: Int.self)
                else { throw ConnectorError(.internalServerError, .internalError, "No case number counter.") }
                let number = "SR" + String(format: "%07d", value)
                let id = UUID().uuidString.lowercased()
                try await sql.insert(into: Self.requests)
                    .columns(
                        "id", "number", "tenant_id", "repository_id", "ticket_number", "ticket_url", "title",
                        "description", "severity", "status", "contact_email", "contact_name", "contact_phone",
                        "test_environment", "idempotency_key", "created_by_app", "created_at", "updated_at"
                    )
                    .values(
                        SQLBind(id), SQLBind(number), SQLBind(tenant), SQLBind(input.repositoryId),
                        SQLBind(input.ticketNumber), SQLBind(input.ticketUrl), SQLBind(input.title),
                        SQLBind(input.description), SQLBind(input.severity), SQLBind("new"),
                        SQLBind(input.contact.email.lowercased()), SQLBind(input.contact.name),
                        SQLBind(input.contact.phone), SQLBind(input.testEnvironment ?? false),
                        SQLBind(input.idempotencyKey), SQLBind(appId), SQLBind(stamp), SQLBind(stamp)
                    )
                    .run()
                return number
            }
            return (try await require(tenant: tenant, number: number), true)
        } catch {
            // The same key sent twice at once: the other request created it.
            guard (error as? any DatabaseError)?.isConstraintFailure == true,
                let existing = try await byKey(tenant: tenant, key: input.idempotencyKey)
            else { throw error }
            return (existing, false)
        }
    }

    private func byKey(tenant: String, key: String) async throws -> ServiceRequest? {
        guard
            let number = try await database.asSQL().select().column("number").from(Self.requests)
                .where("tenant_id", .equal, tenant).where("idempotency_key", .equal, key).first()?
                .decode(column: "number", as: String.self)
        else { return nil }
        return try await find(tenant: tenant, number: number)
    }

    /// Adds an update to the thread (and, with `status`, changes the case's status); an update from support or a
    /// status change support made is written to the outbox for the desk in the same transaction.
    @discardableResult
    func addUpdate(
        tenant: String?, number: String, source: Source, author: String, text: String, status: String? = nil
    ) async throws -> (request: ServiceRequest, update: ServiceRequest.Update) {
        let current = try await require(tenant: tenant, number: number)
        if current.status == "closed" {
            throw ConnectorError(
                .conflict, .serviceRequestClosed, "Service request \(number) is closed: it takes no more updates.")
        }
        let stamp = now()
        let update = try await database.transaction { database -> ServiceRequest.Update in
            let sql = try database.asSQL()
            // Touching the case first takes its row lock (PostgreSQL), so two updates of one case get their
            // sequence numbers one after the other.
            try await sql.update(Self.requests).set("updated_at", to: SQLBind(stamp.timeIntervalSince1970))
                .set("status", to: SQLBind(status ?? current.status)).where("number", .equal, number).run()
            let id =
                try await sql.select().column("id").from(Self.requests).where("number", .equal, number).first()?
                .decode(column: "id", as: String.self) ?? ""
            let last =
                try await sql.raw(
                    "SELECT MAX(sequence) AS last FROM \(ident: Self.updates) WHERE request_id = \(bind: id)"
                ).first()?.decode(column: "last", as: Int?.self) ?? 0
            let update = ServiceRequest.Update(
                id: UUID().uuidString.lowercased(), sequence: last + 1, from: source.rawValue, author: author,
                text: text, status: status, createdAt: stamp)
            try await sql.insert(into: Self.updates)
                .columns("id", "request_id", "sequence", "source", "author", "text", "status", "created_at")
                .values(
                    SQLBind(update.id), SQLBind(id), SQLBind(update.sequence), SQLBind(source.rawValue),
                    SQLBind(author), SQLBind(text), SQLBind(status), SQLBind(stamp.timeIntervalSince1970)
                )
                .run()
            if source != .customer {
                let event = ServiceRequestEvent(
                    eventId: update.id, type: ServiceRequestEvent.updatedType, occurredAt: stamp,
                    tenantId: current.tenantId, repositoryId: current.repositoryId,
                    serviceRequest: .init(
                        number: number, ticketNumber: current.ticketNumber, status: status ?? current.status,
                        severity: current.severity),
                    update: update)
                let encoder = JSONEncoder()
                encoder.dateEncodingStrategy = .iso8601
                try await sql.insert(into: Self.outbox)
                    .columns(
                        "id", "tenant_id", "repository_id", "request_id", "sequence", "kind", "payload", "state",
                        "attempts", "next_attempt_at", "created_at"
                    )
                    .values(
                        SQLBind(update.id), SQLBind(current.tenantId), SQLBind(current.repositoryId), SQLBind(id),
                        SQLBind(update.sequence), SQLBind(ServiceRequestEvent.updatedType),
                        SQLBind(String(decoding: try encoder.encode(event), as: UTF8.self)), SQLBind("pending"),
                        SQLBind(0), SQLBind(stamp.timeIntervalSince1970), SQLBind(stamp.timeIntervalSince1970)
                    )
                    .run()
            }
            return update
        }
        return (try await require(tenant: tenant, number: number), update)
    }
}

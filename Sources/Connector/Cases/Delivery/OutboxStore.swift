import Foundation
import SQLKit
import Vapor

/// The outbox of case events for the desks (`connector_outbox`): claimed with a lease so that instances sharing the
/// database never send one event at the same time, in order per case — an event is due only when every earlier
/// event of its case has been sent — and kept after sending, so the deliveries view shows every state.
struct OutboxStore: Sendable {
    let sql: any SQLDatabase
    let now: @Sendable () -> Date

    static let table = "connector_outbox"

    enum State: String, Sendable, CaseIterable {
        case pending, sent, parked
    }

    struct Event: Sendable {
        let id: String
        let tenantId: String
        let repositoryId: String
        let requestId: String
        let sequence: Int
        let payload: String
        /// 1 on the first attempt.
        let attempt: Int
    }

    /// Claims the oldest due event whose case has no earlier event unsent.
    func claim(instance: String, lease: TimeInterval) async throws -> Event? {
        let stamp = now().timeIntervalSince1970
        let skipLocked: SQLQueryString = sql.dialect.name == "postgresql" ? " FOR UPDATE SKIP LOCKED" : ""
        let claim: SQLQueryString =
            """
            UPDATE \(ident: Self.table) SET claimed_by = \(bind: instance), claimed_until = \(bind: stamp + lease),
                attempts = attempts + 1
            WHERE id = (SELECT o.id FROM \(ident: Self.table) o
                WHERE o.state = 'pending' AND o.next_attempt_at <= \(bind: stamp)
                AND (o.claimed_until IS NULL OR o.claimed_until < \(bind: stamp))
                AND NOT EXISTS (SELECT 1 FROM \(ident: Self.table) e
                    WHERE e.request_id = o.request_id AND e.sequence < o.sequence AND e.state <> 'sent')
                ORDER BY o.next_attempt_at, o.created_at LIMIT 1
            """ + skipLocked
                + """
                )
                RETURNING id, tenant_id, repository_id, request_id, sequence, payload, attempts
                """
        guard let row = try await sql.raw(claim).first() else { return nil }
        return Event(
            id: try row.decode(column: "id", as: String.self),
            tenantId: try row.decode(column: "tenant_id", as: String.self),
            repositoryId: try row.decode(column: "repository_id", as: String.self),
            requestId: try row.decode(column: "request_id", as: String.self),
            sequence: try row.decode(column: "sequence", as: Int.self),
            payload: try row.decode(column: "payload", as: String.self),
            attempt: try row.decode(column: "attempts", as: Int.self))
    }

    /// Forgets every claim; returns how many there were.
    func releaseClaims() async throws -> Int {
        try await sql.update(Self.table).set("claimed_by", to: SQLLiteral.null).set(
            "claimed_until", to: SQLLiteral.null
        )
        .where("claimed_by", .isNot, SQLLiteral.null).where("state", .equal, State.pending.rawValue)
        .returning("id").all().count
    }

    func markSent(_ id: String) async throws {
        try await sql.update(Self.table).set("state", to: SQLBind(State.sent.rawValue))
            .set("sent_at", to: SQLBind(now().timeIntervalSince1970)).set("last_error", to: SQLLiteral.null)
            .set("claimed_by", to: SQLLiteral.null).set("claimed_until", to: SQLLiteral.null)
            .where("id", .equal, id).run()
    }

    /// Tries again after `delay` seconds.
    func retry(_ id: String, after delay: TimeInterval, error: String) async throws {
        try await sql.update(Self.table).set("next_attempt_at", to: SQLBind(now().timeIntervalSince1970 + delay))
            .set("last_error", to: SQLBind(String(error.prefix(2000))))
            .set("claimed_by", to: SQLLiteral.null).set("claimed_until", to: SQLLiteral.null)
            .where("id", .equal, id).run()
    }

    /// Stops trying until someone replays it; its case's later events wait behind it.
    func park(_ id: String, reason: String) async throws {
        try await sql.update(Self.table).set("state", to: SQLBind(State.parked.rawValue))
            .set("last_error", to: SQLBind(String(reason.prefix(2000))))
            .set("claimed_by", to: SQLLiteral.null).set("claimed_until", to: SQLLiteral.null)
            .where("id", .equal, id).run()
    }

    /// Sends a parked (or pending) event again now, with a fresh retry budget; false when there is no such event
    /// or it was sent.
    func replay(_ id: String) async throws -> Bool {
        let rows = try await sql.update(Self.table).set("state", to: SQLBind(State.pending.rawValue))
            .set("attempts", to: SQLBind(0)).set("next_attempt_at", to: SQLBind(now().timeIntervalSince1970))
            .set("claimed_by", to: SQLLiteral.null).set("claimed_until", to: SQLLiteral.null)
            .where("id", .equal, id).where("state", .notEqual, State.sent.rawValue)
            .returning("id").all()
        return !rows.isEmpty
    }

    /// How many events are in `state`, counted by the database.
    func count(state: State) async throws -> Int {
        try await sql.select().column(SQLFunction("COUNT", args: SQLLiteral.all), as: "n").from(Self.table)
            .where("state", .equal, state.rawValue).first()?.decode(column: "n", as: Int.self) ?? 0
    }

    struct Delivery: Content {
        let eventId: String
        let tenantId: String
        let repositoryId: String
        let serviceRequest: String
        let sequence: Int
        /// `pending` (not tried yet or waiting to retry), `sent` or `parked`.
        let state: String
        let attempts: Int
        let lastError: String?
        let nextAttemptAt: Date?
        let createdAt: Date
        let sentAt: Date?
    }

    /// Deliveries newest first, with the case number.
    func list(
        state: State? = nil, tenant: String? = nil, number: String? = nil, eventId: String? = nil, limit: Int = 200
    ) async throws
        -> [Delivery]
    {
        var query = sql.select()
            .columns(
                SQLColumn("id", table: "o"), SQLColumn("tenant_id", table: "o"), SQLColumn("repository_id", table: "o"),
                SQLColumn("sequence", table: "o"), SQLColumn("state", table: "o"), SQLColumn("attempts", table: "o"),
                SQLColumn("last_error", table: "o"), SQLColumn("next_attempt_at", table: "o"),
                SQLColumn("created_at", table: "o"), SQLColumn("sent_at", table: "o"), SQLColumn("number", table: "r")
            )
            .from(SQLAlias(SQLIdentifier(Self.table), as: SQLIdentifier("o")))
            .join(
                SQLAlias(SQLIdentifier(ServiceRequestStore.requests), as: SQLIdentifier("r")),
                on: SQLColumn("id", table: "r"), .equal, SQLColumn("request_id", table: "o"))
        if let state { query = query.where(SQLColumn("state", table: "o"), .equal, SQLBind(state.rawValue)) }
        if let tenant { query = query.where(SQLColumn("tenant_id", table: "o"), .equal, SQLBind(tenant)) }
        if let number { query = query.where(SQLColumn("number", table: "r"), .equal, SQLBind(number)) }
        if let eventId { query = query.where(SQLColumn("id", table: "o"), .equal, SQLBind(eventId)) }
        return try await query.orderBy(
            SQLOrderBy(expression: SQLColumn("created_at", table: "o"), direction: SQLDirection.descending)
        )
        .limit(max(1, min(limit, 1000))).all()
        .map { row in
            let state = try row.decode(column: "state", as: String.self)
            return Delivery(
                eventId: try row.decode(column: "id", as: String.self),
                tenantId: try row.decode(column: "tenant_id", as: String.self),
                repositoryId: try row.decode(column: "repository_id", as: String.self),
                serviceRequest: try row.decode(column: "number", as: String.self),
                sequence: try row.decode(column: "sequence", as: Int.self), state: state,
                attempts: try row.decode(column: "attempts", as: Int.self),
                lastError: try row.decode(column: "last_error", as: String?.self),
                nextAttemptAt: state == State.pending.rawValue
                    ? Date(timeIntervalSince1970: try row.decode(column: "next_attempt_at", as: Double.self))
                    : nil,
                createdAt: Date(timeIntervalSince1970: try row.decode(column: "created_at", as: Double.self)),
                sentAt: try row.decode(column: "sent_at", as: Double?.self).map(Date.init(timeIntervalSince1970:)))
        }
    }
}

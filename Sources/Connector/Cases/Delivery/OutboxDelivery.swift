import AsyncHTTPClient
import Foundation
import NIOCore
import ServerSupport
import Synchronization
import Vapor
import WireModels

/// Sends the outbox's events to the desks: each to its repository's endpoint (`{endpoint}/api/x_mioms_m365_assis/
/// v1/events`) with the repository's token. A 2xx is delivered; a 401 gets one fresh token, then parks the event
/// (the credentials are wrong); a 408, 425, 429 or 5xx, or no answer, retries after an exponential backoff with
/// jitter (or the desk's `Retry-After`); any other 4xx cannot be fixed by retrying and parks the event at once with
/// the reason; after `maxAttempts` an event is parked too. The receiver applies each event ID once, so a crash
/// between sending and recording only sends it again.
struct OutboxDelivery: Sendable {
    let app: Application

    static let jobName = "outbox-delivery"
    static let maxAttempts = 12
    /// Longer than one delivery can take (a token request and the event, 15 s each at most).
    static let lease: TimeInterval = 45
    /// Most events one pass sends, so a pass ends and the runner's other work gets its turn.
    static let perPass = 200

    enum Outcome: Equatable {
        case sent
        case retry(after: TimeInterval, reason: String)
        case parked(String)
    }

    /// Sends due events until none is left or the pass is full; returns how many were tried.
    @discardableResult
    func deliverDue() async -> Int {
        let budget = Budget(Self.perPass)
        await withTaskGroup(of: Void.self) { group in
            // Different cases only: a case's next event is not due while its earlier one is in flight.
            for _ in 0..<max(1, app.connector.config.deliveryWorkers) {
                group.addTask { await self.work(budget) }
            }
        }
        return budget.used
    }

    /// The events a pass may still try, shared by its workers.
    final class Budget: Sendable {
        private let state: Mutex<(left: Int, used: Int)>

        init(_ count: Int) { state = Mutex((count, 0)) }

        var used: Int { state.withLock { $0.used } }

        /// Takes one try; false when the pass is full.
        func take() -> Bool {
            state.withLock { state in
                guard state.left > 0 else { return false }
                state.left -= 1
                state.used += 1
                return true
            }
        }

        /// Gives back a try that found nothing to send.
        func giveBack() {
            state.withLock {
                $0.left += 1; $0.used -= 1
            }
        }
    }

    /// One worker: claims and sends events until none is due or the pass's budget is spent.
    private func work(_ budget: Budget) async {
        let context = app.connector
        guard let sql = try? app.db.asSQL() else { return }
        let outbox = OutboxStore(sql: sql, now: context.config.now)
        while !Task.isCancelled {
            guard budget.take() else { return }
            let event: OutboxStore.Event?
            do {
                event = try await outbox.claim(instance: context.deliveryInstance, lease: Self.lease)
            } catch {
                app.logger.error("Outbox unreadable", metadata: ["error": "\(String(reflecting: error))"])
                budget.giveBack()
                return
            }
            guard let event else {
                budget.giveBack()
                return
            }
            let outcome = await deliver(event)
            do {
                switch outcome {
                case .sent:
                    try await outbox.markSent(event.id)
                case .retry(let delay, let reason) where event.attempt < Self.maxAttempts:
                    try await outbox.retry(event.id, after: delay, error: reason)
                case .retry(_, let reason):
                    try await outbox.park(
                        event.id, reason: "Retry budget spent after \(event.attempt) attempts. Last: \(reason)")
                case .parked(let reason):
                    try await outbox.park(event.id, reason: reason)
                }
            } catch {
                app.logger.error(
                    "Delivery outcome not saved; the event is sent again after its lease",
                    metadata: ["event": "\(event.id)", "error": "\(String(reflecting: error))"])
            }
            app.logger.log(
                level: outcome == .sent ? .info : .warning, "Case event delivery",
                metadata: [
                    "event": "\(event.id)", "tenant": "\(event.tenantId)", "repository": "\(event.repositoryId)",
                    "attempt": "\(event.attempt)", "outcome": "\(outcome)",
                ])
        }
    }

    func deliver(_ event: OutboxStore.Event) async -> Outcome {
        let context = app.connector
        let credentials: ProfileStore.RepositoryCredentials
        do {
            guard
                let found = try await ProfileStore(
                    sql: try app.db.asSQL(), masterKey: context.config.masterKey, now: context.config.now
                ).credentials(tenant: event.tenantId, repositoryId: event.repositoryId)
            else {
                return .parked(
                    "Repository \(event.repositoryId) is no longer in tenant \(event.tenantId)'s organization profile.")
            }
            credentials = found
        } catch {
            return .retry(after: backoff(event.attempt), reason: "The profile could not be read: \(error)")
        }
        var freshToken = false
        while true {
            let token: String
            do {
                token = try await context.repositoryTokens.token(
                    for: credentials, tenant: event.tenantId, config: context.config, http: context.http,
                    logger: app.logger, correlationId: event.id)
            } catch let failure as RepositoryTokens.Failure {
                return failure.retryable
                    ? .retry(after: backoff(event.attempt), reason: failure.description)
                    : .parked("No token from the desk: \(failure.description)")
            } catch {
                return .retry(after: backoff(event.attempt), reason: "\(error)")
            }
            var request = HTTPClientRequest(url: credentials.repository.endpoint + M365SupportScope.inboundEvents)
            request.method = .POST
            request.headers.add(name: "Authorization", value: "Bearer \(token)")
            request.headers.add(name: "Content-Type", value: "application/json")
            request.headers.add(name: "Accept", value: "application/json")
            let exchange: OutboundExchange
            do {
                exchange = try await context.http.send(
                    request, body: ByteBuffer(string: event.payload), source: "delivery", correlationId: event.id,
                    secrets: [token], log: ProcessOutboundLog(), logger: app.logger)
            } catch let failure as OutboundFailure {
                return .retry(after: backoff(event.attempt), reason: failure.description)
            } catch {
                return .retry(after: backoff(event.attempt), reason: "\(error)")
            }
            let code = exchange.status.code
            let said = Self.excerpt(exchange.body)
            switch code {
            case 200..<300:
                return .sent
            case 401 where !freshToken:
                context.repositoryTokens.drop(tenant: event.tenantId, repository: event.repositoryId)
                freshToken = true
                continue
            case 401:
                return .parked("The desk refused a fresh token (401)\(said). Check the repository's credentials.")
            case 408, 425, 429, 500...599:
                let wait =
                    exchange.headers.first(name: "Retry-After").map {
                        min(3600, GraphHealthSync.retryAfter($0, now: context.config.now()))
                    } ?? backoff(event.attempt)
                return .retry(after: wait, reason: "The desk answered \(code)\(said).")
            default:
                return .parked("The desk answered \(code)\(said); retrying cannot change that.")
            }
        }
    }

    /// 5 s, 10 s, 20 s … at most an hour, each ±20 % so that many events do not return at once.
    func backoff(_ attempt: Int) -> TimeInterval {
        let base = min(3600, 5 * pow(2, Double(max(0, min(attempt - 1, 12)))))
        return base * Double.random(in: 0.8...1.2)
    }

    static func excerpt(_ body: ByteBuffer) -> String {
        guard body.readableBytes > 0 else { return "" }
        let text = String(decoding: body.readableBytesView.prefix(300), as: UTF8.self)
            .replacingOccurrences(of: "\n", with: " ")
        return ": " + text
    }
}

/// Starts a delivery pass at once when this instance writes an event, instead of at the next poll: one pass at a
/// time, and one more if events arrived while it ran. (Other instances find the event at their next poll.) At
/// shutdown it stops taking kicks and waits for the pass in flight, before the database goes away.
final class DeliveryKick: LifecycleHandler, Sendable {
    private struct State {
        var running: Task<Void, Never>?
        var again = false
        var stopped = false
    }

    private let state = Mutex(State())

    func kick(_ app: Application) {
        guard app.connector.config.deliversAtOnce else { return }
        state.withLock { state in
            guard !state.stopped else { return }
            if state.running != nil {
                state.again = true
                return
            }
            state.running = Task { [self] in
                while true {
                    await OutboxDelivery(app: app).deliverDue()
                    let more = self.state.withLock { state -> Bool in
                        if state.again, !state.stopped {
                            state.again = false
                            return true
                        }
                        state.running = nil
                        return false
                    }
                    if !more { return }
                }
            }
        }
    }

    func shutdownAsync(_ application: Application) async {
        let running = state.withLock { state -> Task<Void, Never>? in
            state.stopped = true
            return state.running
        }
        await running?.value
    }
}

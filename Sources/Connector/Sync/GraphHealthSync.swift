import AsyncHTTPClient
import Fluent
import Foundation
import NIOCore
import SQLKit
import ServerSupport
import Vapor
import WireModels

/// Reads the service health of every tenant whose profile gives Graph app credentials from live Microsoft Graph
/// (or anything that speaks its service communications API): a client-credentials token, the tenant's
/// `healthOverviews` (service names are never assumed), then the issues changed since the last completed sync,
/// following `@odata.nextLink` verbatim. A 429 waits its `Retry-After`; other failures back off exponentially.
/// Each tenant's last success and last failure are kept for the profile to show.
///
/// A sync interrupted part-way (a failure, a restart) has saved what it read; the cursor moves only when a sync
/// completes, so the next one reads those pages again, which is harmless: issues are saved by ID.
struct GraphHealthSync {
    let database: any Database
    let http: any OutboundHTTPClient
    let config: ConnectorConfig
    let logger: Logger

    static let jobName = "graph-health-sync"
    static let table = "connector_health_sync"
    /// A sync that would follow more pages than this stops and says so: a `nextLink` loop must not run forever.
    static let maxPages = 200
    static let maxBackoff: TimeInterval = 3600

    /// What one tenant's sync did.
    enum Outcome: Equatable {
        case synced(issues: Int)
        case throttled(retryAfter: TimeInterval)
        case failed(String)
        case notDue
    }

    /// Syncs every tenant with credentials whose wait is over.
    func runDue() async {
        let tenants: [(tenant: String, clientId: String, secret: String)]
        do {
            tenants = try await ProfileStore(sql: try database.asSQL(), masterKey: config.masterKey, now: config.now)
                .graphCredentials()
        } catch {
            logger.error("Graph sync could not read the profiles", metadata: ["error": "\(String(reflecting: error))"])
            return
        }
        for credentials in tenants {
            _ = await sync(tenant: credentials.tenant, clientId: credentials.clientId, secret: credentials.secret)
        }
    }

    private struct State: Decodable {
        let cursor: Double?
        let not_before: Double?
        let failures: Int
    }

    func sync(tenant: String, clientId: String, secret: String, force: Bool = false) async -> Outcome {
        let now = config.now()
        do {
            let sql = try database.asSQL()
            let state = try await sql.select().columns("*").from(Self.table).where("tenant_id", .equal, tenant)
                .first(decoding: State.self)
            if !force, let notBefore = state?.not_before, notBefore > now.timeIntervalSince1970 { return .notDue }
            try await record(tenant: tenant, ["last_attempt_at": SQLBind(now.timeIntervalSince1970)])
            let outcome = try await read(
                tenant: tenant, clientId: clientId, secret: secret,
                since: state?.cursor.map(Date.init(timeIntervalSince1970:)))
            switch outcome {
            case .success(let issues, let newest):
                var values: [String: SQLBind] = [
                    "last_synced_at": SQLBind(config.now().timeIntervalSince1970), "last_error": SQLBind(String?.none),
                    "not_before": SQLBind(Double?.none), "failures": SQLBind(0),
                ]
                if let newest, newest.timeIntervalSince1970 > (state?.cursor ?? -.infinity) {
                    values["cursor"] = SQLBind(newest.timeIntervalSince1970)
                }
                try await record(tenant: tenant, values)
                return .synced(issues: issues)
            case .throttled(let retryAfter):
                try await record(
                    tenant: tenant,
                    [
                        "last_error": SQLBind(
                            "Microsoft Graph throttled the sync (429); the next attempt waits \(Int(retryAfter)) s."),
                        "not_before": SQLBind(config.now().timeIntervalSince1970 + retryAfter),
                    ])
                return .throttled(retryAfter: retryAfter)
            }
        } catch {
            let reason = Self.describe(error)
            logger.warning("Graph health sync failed", metadata: ["tenant": "\(tenant)", "reason": "\(reason)"])
            let failures = InputNumber.clamp(
                ((try? await database.asSQL().select().columns("*").from(Self.table).where("tenant_id", .equal, tenant)
                    .first(decoding: State.self))?.failures ?? 0) + 1, to: 1...30)
            let wait = min(config.graphSyncInterval * pow(2, Double(failures - 1)), Self.maxBackoff)
            try? await record(
                tenant: tenant,
                [
                    "last_error": SQLBind(reason), "failures": SQLBind(failures),
                    "not_before": SQLBind(config.now().timeIntervalSince1970 + wait),
                ])
            return .failed(reason)
        }
    }

    private enum Read {
        case success(issues: Int, newest: Date?)
        case throttled(TimeInterval)
    }

    /// A failure with the words the profile shows.
    struct SyncFailure: Error {
        let reason: String
    }

    private func read(tenant: String, clientId: String, secret: String, since: Date?) async throws -> Read {
        guard case .token(let token) = try await token(tenant: tenant, clientId: clientId, secret: secret) else {
            throw SyncFailure(reason: "no token")
        }
        let store = HealthStore(sql: try database.asSQL(), now: config.now)
        let base = config.graphBaseURL + "/v1.0/admin/serviceAnnouncement"

        switch try await get(base + "/healthOverviews", token: token) {
        case .throttled(let wait): return .throttled(wait)
        case .page(let object):
            for item in object["value"] as? [[String: Any]] ?? [] {
                guard let id = item["id"] as? String, let name = item["service"] as? String,
                    let status = item["status"] as? String, !id.isEmpty, id.count <= 64, name.count <= 200
                else { continue }
                try await store.saveService(
                    ServiceHealthOverview(id: id, service: name, status: status), tenant: tenant)
            }
        }

        var url = base + "/issues"
        if let since {
            var components = URLComponents()
            components.queryItems = [
                URLQueryItem(name: "$filter", value: "lastModifiedDateTime ge \(GraphDate.string(since))")
            ]
            url += "?" + (components.percentEncodedQuery ?? "")
        }
        var count = 0
        var newest = since
        var visited = Set<String>()
        for _ in 0..<Self.maxPages {
            visited.insert(url)
            switch try await get(url, token: token) {
            case .throttled(let wait): return .throttled(wait)
            case .page(let object):
                for item in object["value"] as? [[String: Any]] ?? [] {
                    guard let data = try? JSONSerialization.data(withJSONObject: item),
                        let issue = try? GraphDate.decoder.decode(ServiceHealthIssue.self, from: data)
                    else {
                        logger.warning(
                            "Graph sync skipped an issue it could not read",
                            metadata: ["tenant": "\(tenant)", "id": "\((item["id"] as? String ?? "?").prefix(64))"])
                        continue
                    }
                    do {
                        try await store.save(issue, tenant: tenant, source: .graph)
                        count += 1
                        if let modified = issue.lastModifiedDateTime, modified > (newest ?? .distantPast) {
                            newest = modified
                        }
                    } catch let refusal as ConnectorError {
                        logger.warning(
                            "Graph sync skipped an issue it could not keep",
                            metadata: ["tenant": "\(tenant)", "reason": "\(refusal.reason)"])
                    }
                }
                guard let next = object["@odata.nextLink"] as? String else {
                    return .success(issues: count, newest: newest)
                }
                // The bearer token goes only where Graph is: a link elsewhere, or in a loop, ends the sync.
                guard next.hasPrefix(config.graphBaseURL + "/"), !visited.contains(next) else {
                    throw SyncFailure(
                        reason:
                            "Microsoft Graph's next page link \(next.prefix(200)) is not on \(config.graphBaseURL) or repeats"
                    )
                }
                url = next
            }
        }
        throw SyncFailure(
            reason: "Microsoft Graph returned more than \(Self.maxPages) pages of issues; the sync stopped")
    }

    private enum Page {
        case page([String: Any])
        case throttled(TimeInterval)
    }

    private func get(_ url: String, token: String) async throws -> Page {
        var request = HTTPClientRequest(url: url)
        request.headers.add(name: "Authorization", value: "Bearer \(token)")
        request.headers.add(name: "Accept", value: "application/json")
        request.headers.add(name: "Prefer", value: "odata.maxpagesize=100")
        let exchange = try await http.send(
            request, body: nil, source: "graph", correlationId: nil, secrets: [token], log: ProcessOutboundLog(),
            logger: logger)
        if exchange.status == .tooManyRequests {
            return .throttled(Self.retryAfter(exchange.headers.first(name: "Retry-After"), now: config.now()))
        }
        let object = try? JSONSerialization.jsonObject(with: Data(exchange.body.readableBytesView)) as? [String: Any]
        guard exchange.status == .ok, let object else {
            let error = (object?["error"] as? [String: Any])
            let code = error?["code"] as? String ?? ""
            let message = (error?["message"] as? String ?? "").prefix(300)
            throw SyncFailure(
                reason: "Microsoft Graph answered \(exchange.status.code) \(code) \(message)".trimmingCharacters(
                    in: .whitespaces)
                    + " for \(URL(string: url)?.path ?? url) (outbound log \(exchange.logId))")
        }
        return .page(object)
    }

    private enum Token {
        case token(String)
    }

    private func token(tenant: String, clientId: String, secret: String) async throws -> Token {
        do {
            return .token(
                try await AppOnlyToken(http: http, logger: logger).fetch(
                    url: config.graphTokenURL.replacingOccurrences(of: "{tenant}", with: tenant), clientId: clientId,
                    secret: secret, scope: config.graphScope
                ).token)
        } catch let refusal as AppOnlyToken.Refusal {
            throw SyncFailure(reason: refusal.description)
        }
    }

    private func record(tenant: String, _ values: [String: SQLBind]) async throws {
        let sql = try database.asSQL()
        let exists =
            try await sql.select().column("tenant_id").from(Self.table).where("tenant_id", .equal, tenant)
            .first() != nil
        if exists {
            var update = sql.update(Self.table)
            for (column, value) in values.sorted(by: { $0.key < $1.key }) {
                update = update.set(SQLIdentifier(column), to: value)
            }
            try await update.where("tenant_id", .equal, tenant).run()
        } else {
            var row = values
            row["tenant_id"] = SQLBind(tenant)
            if row["failures"] == nil { row["failures"] = SQLBind(0) }
            let sorted = row.sorted { $0.key < $1.key }
            try await sql.insert(into: Self.table).columns(sorted.map(\.key)).values(sorted.map(\.value)).run()
        }
    }

    /// `Retry-After` in seconds or as an HTTP date, kept between 1 s and an hour (absent: a minute).
    static func retryAfter(_ header: String?, now: Date) -> TimeInterval {
        guard let header = header?.trimmingCharacters(in: .whitespaces), !header.isEmpty else { return 60 }
        if let seconds = InputNumber.parse(header, in: 0...Int.max) {
            return TimeInterval(InputNumber.clamp(seconds, to: 1...3600))
        }
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.dateFormat = "EEE, dd MMM yyyy HH:mm:ss zzz"
        if let date = formatter.date(from: header) {
            return min(max(date.timeIntervalSince(now), 1), 3600)
        }
        return 60
    }

    static func describe(_ error: any Error) -> String {
        switch error {
        case let failure as SyncFailure: failure.reason
        case let failure as OutboundFailure: "\(failure.host): \(failure.reason) (outbound log \(failure.logId))"
        default: String(describing: error).prefix(300).description
        }
    }
}

import Fluent
import Foundation
import Logging
import SQLKit
import Synchronization
import Vapor

/// Background work for a service: periodic jobs (log retention, pollers) and queued jobs (outboxes), kept in
/// the service's database so that several instances sharing it never run the same work twice.
///
/// - A periodic job runs when an instance wins its schedule row for the period (an atomic compare-and-set of
///   `next_run_at`), so one instance runs it per interval, whichever.
/// - A queued job is claimed with a lease (`FOR UPDATE SKIP LOCKED` on PostgreSQL; SQLite has one writer), run,
///   and deleted; a failure retries after a growing delay, and after `maxAttempts` the job is parked with its
///   last error for someone to look at.
///
/// Time comes from the injected clock: tests call ``runDue(_:)`` after moving their clock and never wait. In a
/// running server the runner polls every `pollInterval` from boot until shutdown, and stops with the app.
package final class JobRunner: LifecycleHandler, Sendable {
    /// A claimed queued job.
    package struct Job: Sendable {
        package let id: String
        package let kind: String
        package let payload: String
        /// 1 on the first run.
        package let attempt: Int
    }

    private struct Periodic: Sendable {
        let interval: TimeInterval
        let work: @Sendable (Application) async throws -> Void
    }

    package let tables: JobTables
    package let maxAttempts: Int
    private let instance = RandomToken.urlSafe(byteCount: 12)
    private let now: @Sendable () -> Date
    private let pollInterval: Duration
    private let lease: TimeInterval
    private let periodic = Mutex<[String: Periodic]>([:])
    /// Per-instance periodic work → when it runs next (kept in memory: every instance runs it).
    private let local = Mutex<[String: (periodic: Periodic, next: Date)]>([:])
    private let handlers = Mutex<[String: @Sendable (Application, Job) async throws -> Void]>([:])
    private let loop = Mutex<Task<Void, Never>?>(nil)

    package init(
        tables: JobTables, now: @escaping @Sendable () -> Date, pollInterval: Duration = .seconds(1),
        lease: TimeInterval = 300, maxAttempts: Int = 8
    ) {
        self.tables = tables
        self.now = now
        self.pollInterval = pollInterval
        self.lease = lease
        self.maxAttempts = maxAttempts
    }

    /// Runs `work` every `interval` seconds on one of the instances (the first time at the first pass).
    package func every(
        _ interval: TimeInterval, name: String, _ work: @escaping @Sendable (Application) async throws -> Void
    ) {
        periodic.withLock { $0[name] = Periodic(interval: interval, work: work) }
    }

    /// Runs `work` every `interval` seconds on every instance (the first time at the first pass): for keeping an
    /// instance's own memory in step with the shared database, which no other instance can do for it.
    package func everyInstance(
        _ interval: TimeInterval, name: String, _ work: @escaping @Sendable (Application) async throws -> Void
    ) {
        local.withLock { $0[name] = (Periodic(interval: interval, work: work), .distantPast) }
    }

    /// Runs queued jobs of `kind` with `work`.
    package func handle(kind: String, _ work: @escaping @Sendable (Application, Job) async throws -> Void) {
        handlers.withLock { $0[kind] = work }
    }

    /// Queues a job; `sql` may be a transaction, so the job exists exactly when the change that caused it does.
    @discardableResult
    package func enqueue(kind: String, payload: String, runAt: Date? = nil, on sql: any SQLDatabase) async throws
        -> String
    {
        let id = RandomToken.urlSafe(byteCount: 16)
        let stamp = now().timeIntervalSince1970
        try await sql.insert(into: tables.jobs)
            .columns("id", "kind", "payload", "run_at", "attempts", "status", "created_at")
            .values(
                SQLBind(id), SQLBind(kind), SQLBind(payload), SQLBind(runAt?.timeIntervalSince1970 ?? stamp),
                SQLBind(0), SQLBind(JobTables.pending), SQLBind(stamp)
            )
            .run()
        return id
    }

    /// One pass: every periodic job whose period has come (and that this instance wins), then queued jobs until
    /// none is due. Errors are logged, never thrown: one failing job does not stop the others.
    package func runDue(_ application: Application) async {
        guard let sql = application.db as? any SQLDatabase else { return }
        let moment = now()
        let dueHere = local.withLock { jobs in
            let due = jobs.filter { $0.value.next <= moment }
            for (name, job) in due { jobs[name]?.next = moment.addingTimeInterval(job.periodic.interval) }
            return due.map { ($0.key, $0.value.periodic) }.sorted { $0.0 < $1.0 }
        }
        for (name, job) in dueHere {
            do {
                try await job.work(application)
            } catch {
                application.logger.error(
                    "Periodic job failed", metadata: ["job": "\(name)", "error": "\(String(reflecting: error))"])
            }
        }
        for (name, job) in periodic.withLock({ $0 }).sorted(by: { $0.key < $1.key }) {
            do {
                guard try await claimPeriod(name, interval: job.interval, sql: sql) else { continue }
                try await job.work(application)
            } catch {
                application.logger.error(
                    "Periodic job failed", metadata: ["job": "\(name)", "error": "\(String(reflecting: error))"])
            }
        }
        while !Task.isCancelled {
            let claimed: Job?
            do {
                claimed = try await claimQueued(sql: sql)
            } catch {
                application.logger.error("Job queue unreadable", metadata: ["error": "\(String(reflecting: error))"])
                return
            }
            guard let job = claimed else { return }
            await run(job, application: application, sql: sql)
        }
    }

    // MARK: Lifecycle

    package func didBootAsync(_ application: Application) async throws {
        let interval = pollInterval
        let started = Task { [self] in
            while !Task.isCancelled {
                await runDue(application)
                try? await Task.sleep(for: interval)
            }
        }
        loop.withLock { $0 = started }
    }

    package func shutdownAsync(_ application: Application) async {
        let running = loop.withLock { $0 }
        running?.cancel()
        await running?.value
    }

    // MARK: Claims

    /// Whether this instance won the period of `name`: moves `next_run_at` on only if it is due, atomically.
    private func claimPeriod(_ name: String, interval: TimeInterval, sql: any SQLDatabase) async throws -> Bool {
        let stamp = now().timeIntervalSince1970
        try await sql.insert(into: tables.schedules).columns("name", "next_run_at")
            .values(SQLBind(name), SQLBind(stamp)).ignoringConflicts(with: ["name"]).run()
        let won = try await sql.update(tables.schedules)
            .set("next_run_at", to: SQLBind(stamp + interval))
            .set("locked_by", to: SQLBind(instance))
            .where("name", .equal, name).where("next_run_at", .lessThanOrEqual, stamp)
            .returning("name").all()
        return !won.isEmpty
    }

    private func claimQueued(sql: any SQLDatabase) async throws -> Job? {
        let stamp = now().timeIntervalSince1970
        // PostgreSQL: concurrent claimers skip rows another holds instead of waiting for them.
        let skipLocked: SQLQueryString = sql.dialect.name == "postgresql" ? " FOR UPDATE SKIP LOCKED" : ""
        let claim: SQLQueryString =
            """
            UPDATE \(ident: tables.jobs) SET locked_by = \(bind: instance), locked_until = \(bind: stamp + lease),
                attempts = attempts + 1
            WHERE id = (SELECT id FROM \(ident: tables.jobs)
                WHERE status = \(bind: JobTables.pending) AND run_at <= \(bind: stamp)
                AND (locked_until IS NULL OR locked_until < \(bind: stamp))
                ORDER BY run_at, created_at LIMIT 1
            """ + skipLocked + ") RETURNING id, kind, payload, attempts"
        guard let row = try await sql.raw(claim).first() else { return nil }
        return Job(
            id: try row.decode(column: "id", as: String.self), kind: try row.decode(column: "kind", as: String.self),
            payload: try row.decode(column: "payload", as: String.self),
            attempt: try row.decode(column: "attempts", as: Int.self))
    }

    private func run(_ job: Job, application: Application, sql: any SQLDatabase) async {
        guard let work = handlers.withLock({ $0[job.kind] }) else {
            await failed(job, error: "no handler for jobs of kind '\(job.kind)'", application: application, sql: sql)
            return
        }
        do {
            try await work(application, job)
            try await sql.delete(from: tables.jobs).where("id", .equal, job.id).run()
        } catch {
            await failed(job, error: String(describing: error), application: application, sql: sql)
        }
    }

    /// Retries after 2^attempt seconds (at most an hour), or parks the job after `maxAttempts`.
    private func failed(_ job: Job, error: String, application: Application, sql: any SQLDatabase) async {
        let parks = job.attempt >= maxAttempts
        let delay = min(3600, pow(2, Double(min(job.attempt, 12))))
        application.logger.warning(
            parks ? "Job parked after its last attempt" : "Job failed; it will be retried",
            metadata: [
                "job.id": "\(job.id)", "job.kind": "\(job.kind)", "job.attempt": "\(job.attempt)", "error": "\(error)",
            ])
        do {
            try await sql.update(tables.jobs)
                .set("status", to: SQLBind(parks ? JobTables.parked : JobTables.pending))
                .set("run_at", to: SQLBind(now().timeIntervalSince1970 + delay))
                .set("locked_by", to: SQLLiteral.null).set("locked_until", to: SQLLiteral.null)
                .set("last_error", to: SQLBind(String(error.prefix(2000))))
                .where("id", .equal, job.id).run()
        } catch {
            application.logger.error("Job state not saved", metadata: ["job.id": "\(job.id)", "error": "\(error)"])
        }
    }
}

/// The two tables of a service's ``JobRunner``, named with the service's prefix. Each service creates them in
/// a migration of its own, stated literally (see the desk's `CreateJobTables`):
/// `{prefix}_job_schedules` (`name` string key, `next_run_at` double, `locked_by` string?) and `{prefix}_jobs`
/// (`id` string key, `kind`, `payload`, `run_at` double, `attempts` int, `status`, `locked_by`?,
/// `locked_until` double?, `last_error`?, `created_at` double).
package struct JobTables: Sendable {
    package let schedules: String
    package let jobs: String

    static let pending = "pending"
    static let parked = "parked"

    package init(prefix: String) {
        schedules = "\(prefix)_job_schedules"
        jobs = "\(prefix)_jobs"
    }
}

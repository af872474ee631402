import Fluent
import Foundation
import SQLKit
import Synchronization
import TestSupport
import Testing
import Vapor

@testable import ServerSupport

/// The background job runner, driven by a test clock: periodic jobs run once per period across instances,
/// queued jobs run once, retry after a delay and park after their last attempt.
@Suite("Background jobs", .serialized)
struct JobRunnerTests {
    static let tables = JobTables(prefix: "test")

    /// The tables as a service's migration states them.
    static func create(on database: any Database) async throws {
        try await database.schema(tables.schedules)
            .field("name", .string, .identifier(auto: false))
            .field("next_run_at", .double, .required)
            .field("locked_by", .string)
            .create()
        try await database.schema(tables.jobs)
            .field("id", .string, .identifier(auto: false))
            .field("kind", .string, .required)
            .field("payload", .string, .required)
            .field("run_at", .double, .required)
            .field("attempts", .int, .required)
            .field("status", .string, .required)
            .field("locked_by", .string)
            .field("locked_until", .double)
            .field("last_error", .string)
            .field("created_at", .double, .required)
            .create()
    }

    static func delete(on database: any Database) async throws {
        try await database.schema(tables.jobs).delete()
        try await database.schema(tables.schedules).delete()
    }

    func withJobs(
        database: DatabaseLocation = .sqliteMemory, _ body: (Application, TestClock) async throws -> Void
    ) async throws {
        let clock = TestClock()
        // The tables directly, not through a migration: no shared migration log for other suites to race on.
        try await withTestApp(
            setUp: { app in
                try database.register(on: app)
                try? await Self.delete(on: app.db)
                try await Self.create(on: app.db)
                return clock
            },
            { app, clock in
                do {
                    try await body(app, clock)
                } catch {
                    try? await Self.delete(on: app.db)
                    throw error
                }
                try await Self.delete(on: app.db)
            })
    }

    func sql(_ app: Application) throws -> any SQLDatabase {
        guard let sql = app.db as? any SQLDatabase else { throw TestFailure("no SQL database") }
        return sql
    }

    @Test func aPeriodicJobRunsOncePerPeriodWhicheverInstanceAsks() async throws {
        try await withJobs { app, clock in
            let runs = Mutex(0)
            let instances = (0..<2).map { _ in JobRunner(tables: Self.tables, now: clock.provider) }
            for runner in instances { runner.every(60, name: "tick") { _ in runs.withLock { $0 += 1 } } }
            await instances[0].runDue(app)
            await instances[1].runDue(app)
            #expect(runs.withLock { $0 } == 1)
            clock.advance(by: 30)
            await instances[1].runDue(app)
            #expect(runs.withLock { $0 } == 1)
            clock.advance(by: 31)
            await instances[1].runDue(app)
            await instances[0].runDue(app)
            #expect(runs.withLock { $0 } == 2)
        }
    }

    @Test func aQueuedJobRunsOnceAndAFailureIsRetriedAfterADelay() async throws {
        try await withJobs { app, clock in
            let runner = JobRunner(tables: Self.tables, now: clock.provider)
            let done = Mutex<[String]>([])
            let failuresLeft = Mutex(1)
            runner.handle(kind: "deliver") { _, job in
                if job.payload == "flaky",
                    failuresLeft.withLock({ value in
                        defer { value -= 1 }
                        return value > 0
                    })
                {
                    throw TestFailure("the desk is down")
                }
                done.withLock { $0.append("\(job.payload)#\(job.attempt)") }
            }
            try await runner.enqueue(kind: "deliver", payload: "flaky", on: try sql(app))
            try await runner.enqueue(kind: "deliver", payload: "steady", on: try sql(app))
            await runner.runDue(app)
            #expect(done.withLock { $0 } == ["steady#1"])
            await runner.runDue(app)
            #expect(done.withLock { $0 } == ["steady#1"])
            clock.advance(by: 2.5)
            await runner.runDue(app)
            #expect(done.withLock { $0 } == ["steady#1", "flaky#2"])
            let left = try await sql(app).select().column("id").from(Self.tables.jobs).all()
            #expect(left.isEmpty)
        }
    }

    @Test func aJobThatKeepsFailingIsParkedWithItsLastError() async throws {
        try await withJobs { app, clock in
            let runner = JobRunner(tables: Self.tables, now: clock.provider, maxAttempts: 3)
            let attempts = Mutex(0)
            runner.handle(kind: "deliver") { _, _ in
                attempts.withLock { $0 += 1 }
                throw TestFailure("HTTP 503 from the desk")
            }
            try await runner.enqueue(kind: "deliver", payload: "x", on: try sql(app))
            for _ in 0..<6 {
                await runner.runDue(app)
                clock.advance(by: 3600)
            }
            #expect(attempts.withLock { $0 } == 3)
            let row = try #require(
                try await sql(app).select().columns("status", "last_error").from(Self.tables.jobs).first())
            #expect(try row.decode(column: "status", as: String.self) == "parked")
            #expect(try row.decode(column: "last_error", as: String.self).contains("HTTP 503 from the desk"))
        }
    }

    @Test func aJobOfAnUnknownKindIsNotLostButParked() async throws {
        try await withJobs { app, clock in
            let runner = JobRunner(tables: Self.tables, now: clock.provider, maxAttempts: 1)
            try await runner.enqueue(kind: "nobody-handles-this", payload: "x", on: try sql(app))
            await runner.runDue(app)
            let row = try #require(
                try await sql(app).select().columns("status", "last_error").from(Self.tables.jobs).first())
            #expect(try row.decode(column: "status", as: String.self) == "parked")
            #expect(try row.decode(column: "last_error", as: String.self).contains("no handler"))
        }
    }

    @Test func aJobQueuedInARolledBackTransactionDoesNotExist() async throws {
        try await withJobs { app, clock in
            let runner = JobRunner(tables: Self.tables, now: clock.provider)
            struct Rollback: Error {}
            do {
                try await app.db.transaction { transaction in
                    guard let sql = transaction as? any SQLDatabase else { return }
                    try await runner.enqueue(kind: "deliver", payload: "x", on: sql)
                    throw Rollback()
                }
            } catch is Rollback {}
            #expect(try await sql(app).select().column("id").from(Self.tables.jobs).all().isEmpty)
        }
    }

    static let postgresURL = TestPostgres.url("M365_TEST_POSTGRES_URL")

    @Test func instancesRacingForTheQueueRunEachJobOnceOnSQLite() async throws {
        try await withJobs { app, clock in try await race(app, clock) }
    }

    @Test(.enabled(if: postgresURL != nil, Comment(rawValue: TestPostgres.notConfigured("M365_TEST_POSTGRES_URL"))))
    func instancesRacingForTheQueueRunEachJobOnceOnPostgres() async throws {
        try await withJobs(database: .postgres(url: Self.postgresURL!)) { app, clock in try await race(app, clock) }
    }

    /// Four runners (as four instances) drain 60 jobs concurrently: every job runs exactly once.
    func race(_ app: Application, _ clock: TestClock) async throws {
        let seen = Mutex<[String: Int]>([:])
        let runners = (0..<4).map { _ in JobRunner(tables: Self.tables, now: clock.provider) }
        for runner in runners {
            runner.handle(kind: "deliver") { _, job in seen.withLock { $0[job.payload, default: 0] += 1 } }
        }
        for index in 0..<60 { try await runners[0].enqueue(kind: "deliver", payload: "job\(index)", on: try sql(app)) }
        await withTaskGroup(of: Void.self) { group in
            for runner in runners { group.addTask { await runner.runDue(app) } }
        }
        let counts = seen.withLock { $0 }
        #expect(counts.count == 60)
        #expect(counts.values.allSatisfy { $0 == 1 })
    }
}

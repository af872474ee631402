import Fluent
import FluentPostgresDriver
import FluentSQLiteDriver
import Foundation
import SQLKit
import Vapor

/// Where a service keeps its data: an SQLite file (local default), an in-memory SQLite (tests) or PostgreSQL.
package enum DatabaseLocation: Sendable, Equatable {
    case sqliteFile(URL)
    case sqliteMemory
    case postgres(url: String)

    /// `postgres://…` / `postgresql://…` URLs select PostgreSQL; `sqlite://PATH` or a bare path an SQLite file.
    package static func parse(_ value: String) throws -> DatabaseLocation {
        let lowered = value.lowercased()
        if lowered.hasPrefix("postgres://") || lowered.hasPrefix("postgresql://") {
            return .postgres(url: value)
        }
        if lowered == "sqlite::memory:" || lowered == ":memory:" { return .sqliteMemory }
        if lowered.hasPrefix("sqlite://") {
            return .sqliteFile(URL(fileURLWithPath: String(value.dropFirst("sqlite://".count))))
        }
        if value.contains("://") {
            throw Abort(.internalServerError, reason: "Unsupported database URL scheme; use postgres:// or sqlite://")
        }
        return .sqliteFile(URL(fileURLWithPath: value))
    }

    /// Safe to print: PostgreSQL passwords are masked.
    package var redactedDescription: String {
        switch self {
        case .sqliteFile(let url): return "sqlite://\(url.path)"
        case .sqliteMemory: return "sqlite::memory:"
        case .postgres(let url):
            guard var components = URLComponents(string: url) else { return "postgres://…" }
            if components.password != nil { components.password = "***" }
            return components.string ?? "postgres://…"
        }
    }

    package func register(on app: Application) throws {
        if case .postgres = self {
        } else {
            // SQLite runs each statement on the application's blocking thread pool, and SQLiteNIO's busy handler
            // retries without sleeping: with one pool shared by the whole process (NIO's singleton, one thread
            // per core), statements waiting for another connection's write lock could hold every thread while the
            // holder waits for one to commit — a deadlock seen in the test suite. Each application gets a pool of
            // its own (Vapor starts and shuts it down), with room beside its two connections for file reads.
            app.threadPool = NIOThreadPool(numberOfThreads: Self.sqliteThreads)
        }
        switch self {
        case .sqliteFile(let url):
            try FileManager.default.createDirectory(
                at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
            app.databases.use(.sqlite(.file(url.path), maxConnectionsPerEventLoop: 4, sqlLogLevel: .debug), as: .sqlite)
        case .sqliteMemory:
            app.databases.use(.sqlite(.memory, sqlLogLevel: .debug), as: .sqlite)
        case .postgres(let url):
            let configuration = try SQLPostgresConfiguration(url: url)
            // Small pools per event loop: several instances share one server and each service has its own pool.
            app.databases.use(
                .postgres(configuration: configuration, maxConnectionsPerEventLoop: 4, sqlLogLevel: .debug),
                as: .psql)
        }
    }
}

extension DatabaseLocation {
    static let sqliteThreads = 4
}

extension Database {
    /// This database as SQLKit's: every driver the services register (SQLite, PostgreSQL) is one.
    package func asSQL() throws -> any SQLDatabase {
        guard let sql = self as? any SQLDatabase else {
            throw Abort(.internalServerError, reason: "The database driver does not speak SQL.")
        }
        return sql
    }
}

extension Application {
    /// Migrates the service's database. An SQLite file is switched to write-ahead logging first: readers no longer
    /// block the writer, and a writer waits for another (SQLite's busy handler) instead of failing with
    /// "database is locked" when the pool's connections write at once. The mode is kept in the file.
    package func prepareDatabase() async throws {
        if let sql = db as? any SQLDatabase, sql.dialect.name == "sqlite" {
            try await sql.raw("PRAGMA journal_mode=WAL").run()
        }
        try await autoMigrate()
    }
}

import Fluent
import Foundation
import SQLKit
import ServerSupport
import Synchronization
import Vapor

/// The one way records are written — by the Table API, the web pages, the CLI and apps: values converted and
/// checked (``TableWrite``), the table's rules, the store, journal entries and what the change implies, all in
/// one transaction; after it commits, whatever the change invalidates is forgotten (remembered credentials,
/// OIDC metadata) in one place.
struct RecordService: Sendable {
    let database: any Database
    let app: Application
    let userName: String

    init(request: Request, by userName: String) {
        database = request.db
        app = request.application
        self.userName = userName
    }

    init(app: Application, by userName: String) {
        database = app.db
        self.app = app
        self.userName = userName
    }

    /// A request body's or a form's fields. JSON values are immutable Foundation values (strings, numbers,
    /// booleans, null), so they cross into the transaction safely.
    struct Fields: @unchecked Sendable {
        let values: [String: Any]

        init(_ values: [String: Any]) {
            self.values = values
        }
    }

    /// Runs `body` in one transaction: every write in it happens, or none does.
    func transaction<T: Sendable>(_ body: @escaping @Sendable (Writer) async throws -> T) async throws -> T {
        let touched = TouchedTables()
        let (app, userName) = (self.app, self.userName)
        let result = try await database.transaction { database in
            guard let sql = database as? any SQLDatabase else { throw DeskError.internalError }
            try await sql.lockForWriting(table: NumberCounter.schema, column: "last")
            return try await body(Writer(sql: sql, app: app, userName: userName, touched: touched))
        }
        DeskCaches.forget(after: touched.names.withLock { $0 }, in: app)
        return result
    }

    func insert(_ table: TableSchema, _ fields: Fields) async throws -> TableStore.Record {
        try await transaction { try await $0.insert(table, fields) }
    }

    /// The updated record, or nil when there is none with this `sys_id`.
    func update(_ table: TableSchema, _ sysId: String, _ fields: Fields) async throws -> TableStore.Record? {
        try await transaction { try await $0.update(table, sysId, fields) }
    }

    func delete(_ table: TableSchema, _ sysId: String) async throws -> Bool {
        try await transaction { try await $0.delete(table, sysId) }
    }

    /// The tables a transaction wrote to.
    final class TouchedTables: Sendable {
        let names = Mutex<Set<String>>([])
    }

    /// Writes inside one transaction.
    struct Writer: Sendable {
        let sql: any SQLDatabase
        let app: Application
        let userName: String
        let touched: TouchedTables

        private func write(_ table: TableSchema) -> TableWrite {
            touched.names.withLock { _ = $0.insert(table.name) }
            return app.tableWrite(table, sql: sql, by: userName)
        }

        func insert(_ table: TableSchema, _ fields: Fields) async throws -> TableStore.Record {
            let write = write(table)
            let record = try await TableStore(table: table, sql: sql).insert(
                try await write.insertValues(fields.values))
            try await write.afterInsert(fields.values, record: record)
            return record
        }

        func update(_ table: TableSchema, _ sysId: String, _ fields: Fields) async throws -> TableStore.Record? {
            let store = TableStore(table: table, sql: sql)
            guard let existing = try await store.find(sysId) else { return nil }
            let write = write(table)
            guard
                let record = try await store.update(
                    sysId, try await write.updateValues(fields.values, existing: existing))
            else { return nil }
            try await write.afterUpdate(fields.values, record: record)
            return record
        }

        func delete(_ table: TableSchema, _ sysId: String) async throws -> Bool {
            touched.names.withLock { _ = $0.insert(table.name) }
            return try await TableStore(table: table, sql: sql).delete(sysId)
        }
    }
}

/// What the desk keeps in memory about records; a table's behaviour names what its changes make stale.
enum DeskCache: Sendable, Hashable {
    /// Remembered Basic credentials (users, roles and assignments decide who passes).
    case credentials
    /// OIDC metadata and keys (OIDC entities and configurations name them).
    case oidcMetadata
}

enum DeskCaches {
    static func forget(after tables: Set<String>, in app: Application) {
        let stale = Set(tables.compactMap(DeskTables.named).flatMap(\.behaviour.staleCaches))
        if stale.contains(.credentials) { app.desk.authenticator.forgetAll() }
        if stale.contains(.oidcMetadata) { app.desk.oidcCache.removeAll() }
    }
}

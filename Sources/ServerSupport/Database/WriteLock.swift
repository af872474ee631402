import SQLKit

extension SQLDatabase {
    /// Takes SQLite's write lock at the start of a transaction that reads before it writes. SQLite begins
    /// transactions deferred: one that has read cannot wait for another writer when it comes to write, and fails at
    /// once ("database is locked"). A write first — one that changes no row — takes the lock up front, as
    /// BEGIN IMMEDIATE would, so the connection waits its turn (the busy handler) instead. Nothing on PostgreSQL,
    /// whose row locks need no such help. `table` and `column` name any existing column the service owns.
    package func lockForWriting(table: String, column: String) async throws {
        guard dialect.name == "sqlite" else { return }
        try await raw("UPDATE \(ident: table) SET \(ident: column) = \(ident: column) WHERE 0 = 1").run()
    }
}

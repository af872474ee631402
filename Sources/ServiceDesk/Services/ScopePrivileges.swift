import Foundation
import SQLKit
import WireModels

/// Cross-scope access: what an application scope may do with tables outside it (`sys_scope_privilege`).
/// An operation is allowed only by a record whose status is `allowed`.
enum ScopePrivileges {
    static let appScope = M365SupportScope.name

    /// Whether `sourceScope` may perform `operation` on `table`.
    static func isAllowed(sourceScope: String, table: String, operation: String, sql: any SQLDatabase) async throws
        -> Bool
    {
        try await sql.select().column("sys_id").from(DeskTables.scopePrivilege.databaseTable)
            .where("source_scope", .equal, sourceScope).where("target_name", .equal, table)
            .where("operation", .equal, operation).where("status", .equal, "allowed")
            .first() != nil
    }

    /// Throws ServiceNow's refusal when the scope lacks the privilege.
    static func require(sourceScope: String, table: String, operation: String, sql: any SQLDatabase) async throws {
        guard try await isAllowed(sourceScope: sourceScope, table: table, operation: operation, sql: sql) else {
            throw CrossScopeRefusal(sourceScope: sourceScope, table: table, operation: operation)
        }
    }
}

/// A table operation refused by the cross-scope access policy, in ServiceNow's words.
package struct CrossScopeRefusal: Error, Sendable, CustomStringConvertible {
    package let sourceScope: String
    package let table: String
    package let operation: String

    package var description: String {
        "\(operation.prefix(1).uppercased() + operation.dropFirst()) operation against '\(table)' from scope "
            + "'\(sourceScope)' has been refused due to the table's cross-scope access policy"
    }
}

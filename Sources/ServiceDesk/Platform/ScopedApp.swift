import Fluent
import Foundation
import SQLKit
import ServerSupport
import Synchronization
import Vapor
import WireModels

/// A role a scoped app brings; its name starts with the app's scope (`x_mioms_m365_assis.insights_user`).
package struct DeskAppRole: Sendable {
    package let name: String
    package let description: String
    package let contains: [String]

    package init(name: String, description: String, contains: [String] = []) {
        self.name = name
        self.description = description
        self.contains = contains
    }
}

/// Another way to sign in that an app offers on the desk's sign-in page (single sign-on).
package struct DeskSignInOption: Sendable, Encodable {
    package let title: String
    package let path: String

    package init(title: String, path: String) {
        self.title = title
        self.path = path
    }
}

/// An entry of the desk's main menu, shown to users holding one of `roles`.
package struct DeskMenuEntry: Sendable {
    package let title: String
    package let path: String
    package let roles: Set<String>

    package init(title: String, path: String, roles: Set<String>) {
        self.title = title
        self.path = path
        self.roles = roles
    }
}

/// An application the desk hosts in a scope of its own, as ServiceNow hosts scoped apps: the Microsoft 365
/// support app is one. It plugs in through these points only; the desk's own tables it reads through
/// ``ScopedTableAccess``, which checks the cross-scope privileges.
package protocol DeskScopedApp: Sendable {
    /// `x_…`: the prefix of the app's roles, tables (`{scope}_…`) and REST routes (`/api/{scope}/…`).
    var scope: String { get }
    var roles: [DeskAppRole] { get }
    /// The app's own tables, as history (each migration states its schema literally).
    var migrations: [any Migration] { get }
    var menu: [DeskMenuEntry] { get }
    /// The bundle whose `Views` folder holds the app's templates (name them `{scope}/…`).
    var views: Bundle? { get }
    var formTabs: [any IncidentFormTab] { get }
    /// Registers the app's pages (signed-in users; forms CSRF-checked through `form(…)`) and its scripted REST
    /// routes, which `api` places under `/api/{scope}/` with ServiceNow's error envelope.
    func routes(pages: any RoutesBuilder, api: any RoutesBuilder) throws
    /// Ways to sign in the app offers now (its settings may turn them on and off).
    func signInOptions(_ request: Request) async throws -> [DeskSignInOption]
}

extension DeskScopedApp {
    package var roles: [DeskAppRole] { [] }
    package var migrations: [any Migration] { [] }
    package var menu: [DeskMenuEntry] { [] }
    package var views: Bundle? { nil }
    package var formTabs: [any IncidentFormTab] { [] }
    package func routes(pages: any RoutesBuilder, api: any RoutesBuilder) throws {}
    package func signInOptions(_ request: Request) async throws -> [DeskSignInOption] { [] }
}

/// The scoped apps installed in this desk.
package final class DeskApps: Sendable {
    private let apps = Mutex<[any DeskScopedApp]>([])

    package var all: [any DeskScopedApp] { apps.withLock { $0 } }

    func add(_ app: any DeskScopedApp) { apps.withLock { $0.append(app) } }

    /// Menu entries of every app the user may see.
    func menu(for principal: DeskPrincipal) -> [DeskMenuEntry] {
        all.flatMap(\.menu).filter { principal.hasAny(of: $0.roles) }
    }
}

/// Why an app was not installed.
package struct ScopedAppError: Error, Sendable, CustomStringConvertible {
    package let description: String
}

extension Application {
    private struct DeskAppsKey: StorageKey {
        typealias Value = DeskApps
    }

    package var deskApps: DeskApps {
        if let apps = storage[DeskAppsKey.self] { return apps }
        let apps = DeskApps()
        storage[DeskAppsKey.self] = apps
        return apps
    }

    /// Installs a scoped app: its migrations (run by `prepareDesk`), roles, views, form tabs, menu, pages and
    /// REST routes. Call after `configure` and before `prepareDesk`.
    package func install(_ scopedApp: any DeskScopedApp) throws {
        let scope = scopedApp.scope
        guard scope.hasPrefix("x_"), scope.count <= 40,
            scope.allSatisfy({ $0.isASCII && ($0.isLowercase || $0.isNumber || $0 == "_") })
        else {
            throw ScopedAppError(description: "'\(scope)' is not a scope name (x_ and lowercase letters, digits, _)")
        }
        for role in scopedApp.roles where !role.name.hasPrefix(scope + ".") {
            throw ScopedAppError(description: "The role '\(role.name)' is outside the app's scope '\(scope)'")
        }
        migrations.add(scopedApp.migrations)
        if let bundle = scopedApp.views { try addLeafViews(from: bundle, name: scope) }
        for tab in scopedApp.formTabs { incidentFormTabs.add(tab) }
        deskApps.add(scopedApp)
        try scopedApp.routes(
            pages: grouped(WebPageMiddleware(), BodyLimitMiddleware()),
            api: grouped("api", PathComponent(stringLiteral: scope)).grouped(BodyLimitMiddleware()))
    }
}

/// Reads of the desk's tables from an app's scope: allowed only as the scope's cross-scope privileges say,
/// refused with a ``CrossScopeRefusal`` the app can explain (over REST: a 403 in ServiceNow's envelope).
package struct ScopedTableAccess: Sendable {
    package let scope: String
    let sql: any SQLDatabase

    package init(scope: String, request: Request) throws {
        self.init(scope: scope, sql: try request.sqlDatabase)
    }

    init(scope: String, sql: any SQLDatabase) {
        self.scope = scope
        self.sql = sql
    }

    /// Records of `table` matching `query` (an encoded query), at most `limit`.
    package func read(_ table: String, query: String = "", limit: Int = 100) async throws -> [[String: String?]] {
        guard let schema = DeskTables.named(table) else { throw DeskError.invalidTable(table) }
        try await ScopePrivileges.require(sourceScope: scope, table: schema.name, operation: "read", sql: sql)
        let parsed: EncodedQuery
        do {
            parsed = try EncodedQuery.parse(query)
        } catch let error as EncodedQuery.ParseError {
            throw DeskError.badRequest("Invalid query", detail: error.message)
        }
        return try await TableStore(table: schema, sql: sql).list(
            parsed, limit: max(1, min(limit, 1000)), offset: 0, counting: .skip
        ).records
    }
}

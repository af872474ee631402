import Fluent
import Foundation
import SQLKit
import ServerSupport
import TestSupport
import Testing
import Vapor
import VaporTesting
import WireModels

@testable import ServiceDesk

/// A small scoped app proving the desk's extension points, the way the Microsoft 365 support app uses them.
struct TestScopedApp: DeskScopedApp {
    let scope = "x_test_app"
    var roles: [DeskAppRole] { [DeskAppRole(name: "x_test_app.user", description: "Uses the test app")] }
    var migrations: [any Migration] { [CreateNotes()] }
    var menu: [DeskMenuEntry] {
        [DeskMenuEntry(title: "Test app", path: "/x_test_app_notes.do", roles: ["x_test_app.user"])]
    }
    var views: Bundle? { Bundle.module }
    var formTabs: [any IncidentFormTab] { [TestIncidentTab(id: "x_test_app_tab", roles: ["x_test_app.user"])] }

    /// The app's own table, as history.
    struct CreateNotes: AsyncMigration {
        func prepare(on database: any Database) async throws {
            try await database.schema("x_test_app_note").field("id", .string, .identifier(auto: false))
                .field("text", .string, .required).create()
            guard let sql = database as? any SQLDatabase else { return }
            try await sql.insert(into: "x_test_app_note").columns("id", "text").values(
                SQLBind("1"), SQLBind("First note")
            )
            .run()
        }

        func revert(on database: any Database) async throws {
            try await database.schema("x_test_app_note").delete()
        }
    }

    struct Notes: Encodable, Sendable {
        let notes: [String]
    }

    func routes(pages: any RoutesBuilder, api: any RoutesBuilder) throws {
        pages.get("x_test_app_notes.do") { request in
            _ = try request.requireWebUser(["x_test_app.user"])
            guard let sql = request.db as? any SQLDatabase else { throw Abort(.internalServerError) }
            let notes = try await sql.select().column("text").from("x_test_app_note").all()
                .map { try $0.decode(column: "text", as: String.self) }
            return try await request.page("x_test_app/notes", title: "Test app notes", Notes(notes: notes))
        }
        // A scripted REST route reading the Application Registry through the app's cross-scope privileges.
        api.get("v1", "registry") { request in
            let entities = try await ScopedTableAccess(scope: scope, request: request).read("oauth_entity")
            return Response.json(["result": entities.map { ($0["name"] ?? nil) ?? "" }])
        }
    }
}

@Suite("Scoped apps: the desk's extension points")
struct ScopedAppTests {
    func withTestApp(_ body: (Application) async throws -> Void) async throws {
        try await withDesk { app, _ in
            try app.install(TestScopedApp())
            try await app.prepareDesk()
            try await DeskDirectory(app: app).createUser(
                userName: "app.user", firstName: "App", lastName: "User", email: "",
                password: DeskFixture.password("app.user"),
                roles: ["itil", "x_test_app.user"])
            try await body(app)
        }
    }

    @Test func theAppsRolesMenuPagesAndTablesArePartOfTheDesk() async throws {
        try await withTestApp { app in
            let roles = try await app.table(.GET, "sys_user_role?sysparm_query=name=x_test_app.user", as: "admin.user")
            #expect(roles.results.count == 1)
            let user = WebBrowser(app)
            try await user.signIn("app.user")
            let page = try await user.get("/x_test_app_notes.do")
            #expect(page.status == .ok)
            #expect(page.html.contains("<li>First note</li>"))
            #expect(page.html.contains("href=\"/x_test_app_notes.do\""))
            let agent = WebBrowser(app)
            try await agent.signIn("agent")
            let incidents = try await agent.get("/incident_list.do")
            #expect(!incidents.html.contains("Test app"))
            #expect(try await agent.get("/x_test_app_notes.do").status == .forbidden)
        }
    }

    @Test func scriptedRESTReadsPlatformTablesOnlyThroughCrossScopePrivileges() async throws {
        try await withTestApp { app in
            _ = try await DeskDirectory(app: app).insert(
                DeskTables.oauthEntity, ["name": "Registry entry", "type": "client"])
            let refused = try await app.testing().sendRequest(
                .GET, "/api/x_test_app/v1/registry", headers: DeskFixture.basic("app.user"))
            #expect(refused.status == .forbidden)
            #expect(refused.errorMessage == "Cross-scope access refused")
            #expect(
                (refused.object["error"] as? [String: Any])?["detail"] as? String
                    == "Read operation against 'oauth_entity' from scope 'x_test_app' has been refused due to the "
                    + "table's cross-scope access policy")
            guard let sql = app.db as? any SQLDatabase else { throw TestFailure("no SQL") }
            try await TableStore(table: DeskTables.scopePrivilege, sql: sql).insertSystemRow(
                [
                    "source_scope": "x_test_app", "target_scope": "global", "target_name": "oauth_entity",
                    "target_type": "sys_db_object", "operation": "read", "status": "allowed",
                ], at: Date())
            let allowed = try await app.testing().sendRequest(
                .GET, "/api/x_test_app/v1/registry", headers: DeskFixture.basic("app.user"))
            #expect(allowed.status == .ok)
            #expect(allowed.body.string.contains("Registry entry"))
        }
    }

    @Test func anAppOutsideItsScopeIsRefused() async throws {
        struct Stray: DeskScopedApp {
            let scope = "x_stray"
            var roles: [DeskAppRole] { [DeskAppRole(name: "admin", description: "Takes over")] }
        }
        try await withDesk { app, _ in
            #expect(throws: ScopedAppError.self) { try app.install(Stray()) }
        }
    }
}

import Foundation
import SQLKit
import ServerSupport
import Vapor
import WireModels

/// Users and roles for desk admins: `sys_user_list.do`, `sys_user.do`, `sys_user_role_list.do`,
/// `sys_user_role.do`.
struct UserAdminPages: RouteCollection {
    func boot(routes: any RoutesBuilder) throws {
        routes.get(DeskPath.userList.pathComponents) { request in
            _ = try request.requireWebUser(WebAccess.admin)
            return try await Self.userList.render(
                request, heading: "Users", newLink: (DeskPath.new(DeskPath.user), "New user"))
        }
        routes.get(DeskPath.user.pathComponents) { request in
            _ = try request.requireWebUser(WebAccess.admin)
            return try await userForm(request, sysId: request.query["sys_id"] ?? "-1", error: nil)
        }
        routes.form(DeskPath.user.pathComponents, roles: WebAccess.admin, use: saveUser)
        routes.get(DeskPath.roleList.pathComponents) { request in
            _ = try request.requireWebUser(WebAccess.admin)
            return try await Self.roleList.render(
                request, heading: "Roles", newLink: (DeskPath.new(DeskPath.role), "New role"))
        }
        routes.get(DeskPath.role.pathComponents) { request in
            _ = try request.requireWebUser(WebAccess.admin)
            return try await roleForm(request, sysId: request.query["sys_id"] ?? "-1", values: nil, error: nil)
        }
        routes.form(DeskPath.role.pathComponents, roles: WebAccess.admin, use: saveRole)
    }

    static let userList = ListView(
        table: DeskTables.user,
        columns: [
            .init(field: "user_name", label: "User ID"), .init(field: "name", label: "Name"),
            .init(field: "email", label: "Email"), .init(field: "active", label: "Active"),
            .init(field: "web_service_access_only", label: "Web service access only"),
            .init(field: "sys_updated_on", label: "Updated"),
        ],
        filters: [
            .init(parameter: "sysparm_search", label: "Search", kind: .text(fields: ["user_name", "name", "email"])),
            .init(
                parameter: "sysparm_active", label: "Active",
                kind: .choice(field: "active", options: [("true", "Active"), ("false", "Inactive")])),
        ],
        recordPath: DeskPath.user, defaultOrder: .init(field: "user_name", descending: false))

    static let roleList = ListView(
        table: DeskTables.role,
        columns: [
            .init(field: "name", label: "Name"), .init(field: "description", label: "Description"),
            .init(field: "contains_roles", label: "Contains roles"),
        ],
        filters: [.init(parameter: "sysparm_search", label: "Search", kind: .text(fields: ["name", "description"]))],
        recordPath: DeskPath.role, defaultOrder: .init(field: "name", descending: false))

    // MARK: Users

    private func userForm(
        _ request: Request, sysId: String, error: String?, entered: [String: String]? = nil,
        status: HTTPResponseStatus = .ok
    ) async throws -> Response {
        let sql = try request.sqlDatabase
        let isNew = sysId == "-1"
        var record: [String: String] = ["active": "true"]
        if !isNew {
            guard let found = try await TableStore(table: DeskTables.user, sql: sql).find(sysId) else {
                throw WebError.notFound("The user")
            }
            record = found.compactMapValues { $0 }
        }
        if let entered { record.merge(entered) { $1 } }
        let held = isNew ? Set<String>() : try await DeskAuthenticator.directRoles(of: sysId, sql: sql)
        let roles = try await DeskQueries(sql: sql).roles()
        let roleOptions = roles.map { role in
            let name = role.name
            let description = role.description
            return (name, description.isEmpty ? name : "\(name) — \(description)", held.contains(name))
        }
        let form = RecordForm(
            heading: isNew ? "New user" : "User \(record["user_name"] ?? "")", action: DeskPath.user, sysId: sysId,
            fields: [
                .text("user_name", "User ID", record["user_name"], required: true),
                .text("first_name", "First name", record["first_name"]),
                .text("last_name", "Last name", record["last_name"]),
                .text("email", "Email", record["email"], kind: "email"),
                .text(
                    "user_password", isNew ? "Password" : "New password", nil, kind: "password",
                    help: isNew ? "At least 8 characters." : "Leave empty to keep the current password.",
                    required: isNew),
                .checkbox("active", "Active", record["active"] == "true"),
                .checkbox(
                    "web_service_access_only", "Web service access only",
                    record["web_service_access_only"] == "true",
                    help: "Can call the desk's APIs but never sign in to the web interface."),
                .checkboxes("roles", "Roles", roleOptions),
            ],
            buttons: [
                RecordForm.Action(value: isNew ? "insert" : "update", title: isNew ? "Submit" : "Update", id: "save")
            ],
            secondaryButtons: [], backHref: DeskPath.userList, error: error, secret: nil, secretLabel: nil, facts: [])
        return try await request.page("record", title: form.heading, form, status: status)
    }

    private func saveUser(_ request: Request, _ form: WebForm) async throws -> Response {
        let sql = try request.sqlDatabase
        let sysId = form["sys_id"] ?? "-1"
        let isNew = sysId == "-1"
        let store = TableStore(table: DeskTables.user, sql: sql)
        let existing = isNew ? nil : try await store.find(sysId)
        if !isNew, existing == nil { throw WebError.notFound("The user") }
        var fields: [String: Any] = [
            "user_name": form.text("user_name") ?? "", "first_name": form.text("first_name") ?? "",
            "last_name": form.text("last_name") ?? "", "email": form.text("email") ?? "",
            "active": form["active"] == "true", "web_service_access_only": form["web_service_access_only"] == "true",
        ]
        let entered = fields.mapValues { "\($0)" }
        let password = form["user_password"] ?? ""
        func again(_ error: String) async throws -> Response {
            try await userForm(request, sysId: sysId, error: error, entered: entered, status: .badRequest)
        }
        guard form.text("user_name") != nil else { return try await again("User ID is required.") }
        if isNew || !password.isEmpty {
            guard password.count >= 8 else { return try await again("The password needs at least 8 characters.") }
            if let violation = PasswordRules.violation(password) { return try await again(violation.description) }
            fields["user_password"] = password
        }
        let name = [form.text("first_name"), form.text("last_name")].compactMap { $0 }.joined(separator: " ")
        fields["name"] = name.isEmpty ? form.text("user_name") : name
        let wantedRoles = Set(MultiValueForm.values("roles", in: request.body.data))
        if sysId == form.user.sysId, !wantedRoles.contains(DeskRole.admin) || form["active"] != "true" {
            return try await again("You cannot remove your own admin role or deactivate yourself.")
        }

        let record = RecordService.Fields(fields)
        let isUpdate = existing != nil
        do {
            // The user and their roles change together or not at all.
            _ = try await RecordService(request: request, by: form.user.userName).transaction { writer in
                let userId: String
                if isUpdate {
                    guard try await writer.update(DeskTables.user, sysId, record) != nil else {
                        throw WebError.notFound("The user")
                    }
                    userId = sysId
                } else {
                    userId = (try await writer.insert(DeskTables.user, record)["sys_id"] ?? nil) ?? ""
                }
                try await UserRoles.set(wantedRoles, of: userId, writer: writer)
            }
        } catch let error as DeskError where error.kind == .badRequest {
            return try await again(
                error.detail == "Unique key violation detected by database"
                    ? "A user with this user ID already exists." : error.description)
        }
        request.logger.info("User saved", metadata: ["user": "\(form.text("user_name") ?? "")"])
        return request.seeOther(DeskPath.userList, notice: "User \(form.text("user_name") ?? "") saved.")
    }

    // MARK: Roles

    private func roleForm(
        _ request: Request, sysId: String, values: [String: String]?, error: String?, status: HTTPResponseStatus = .ok
    ) async throws -> Response {
        var record: [String: String] = [:]
        if sysId != "-1" {
            guard let found = try await TableStore(table: DeskTables.role, sql: try request.sqlDatabase).find(sysId)
            else {
                throw WebError.notFound("The role")
            }
            record = found.compactMapValues { $0 }
        }
        if let values { record.merge(values) { $1 } }
        let form = RecordForm(
            heading: sysId == "-1" ? "New role" : "Role \(record["name"] ?? "")", action: DeskPath.role,
            sysId: sysId,
            fields: [
                .text("name", "Name", record["name"], required: true),
                .text("description", "Description", record["description"]),
                .text(
                    "contains_roles", "Contains roles", record["contains_roles"],
                    help: "Comma-separated names of roles a holder of this role also gets."),
            ],
            buttons: [.init(value: "save", title: sysId == "-1" ? "Submit" : "Update", id: "save")],
            secondaryButtons: [], backHref: DeskPath.roleList, error: error, secret: nil, secretLabel: nil,
            facts: [])
        return try await request.page("record", title: form.heading, form, status: status)
    }

    private func saveRole(_ request: Request, _ form: WebForm) async throws -> Response {
        let sysId = form["sys_id"] ?? "-1"
        let values = [
            "name": form.text("name") ?? "", "description": form.text("description") ?? "",
            "contains_roles": form.text("contains_roles") ?? "",
        ]
        guard form.text("name") != nil else {
            return try await roleForm(
                request, sysId: sysId, values: values, error: "Name is required.", status: .badRequest)
        }
        let service = RecordService(request: request, by: form.user.userName)
        do {
            if sysId == "-1" {
                _ = try await service.insert(DeskTables.role, RecordService.Fields(values))
            } else {
                guard try await service.update(DeskTables.role, sysId, RecordService.Fields(values)) != nil else {
                    throw WebError.notFound("The role")
                }
            }
        } catch let error as DeskError where error.kind == .badRequest {
            return try await roleForm(
                request, sysId: sysId, values: values, error: "A role with this name already exists.",
                status: .badRequest)
        }
        return request.seeOther(DeskPath.roleList, notice: "Role \(values["name"] ?? "") saved.")
    }
}

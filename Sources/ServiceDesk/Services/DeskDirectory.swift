import Foundation
import SQLKit
import ServerSupport
import Vapor
import WireModels

/// Desk users and roles, for the demo seed and management commands; the Table API writes the same tables.
package struct DeskDirectory: Sendable {
    /// The built-in roles: name, description and the roles each contains.
    static let builtInRoles: [(String, String, [String])] = [
        (DeskRole.admin, "System administrator", []),
        (DeskRole.itil, "Service desk agent: works incidents", []),
        (M365SupportScope.insightsUser, "Sees Microsoft 365 service health and recommended solutions", []),
        (
            M365SupportScope.administrator, "Also opens Microsoft 365 support cases and links an account",
            [M365SupportScope.insightsUser]
        ),
    ]

    package let app: Application

    package init(app: Application) {
        self.app = app
    }

    private var sql: any SQLDatabase {
        get throws {
            guard let sql = app.db as? any SQLDatabase else { throw DeskError.internalError }
            return sql
        }
    }

    /// Inserts the built-in roles that are missing.
    func installRoles() async throws {
        let store = TableStore(table: DeskTables.role, sql: try sql)
        let appRoles = app.deskApps.all.flatMap(\.roles).map { ($0.name, $0.description, $0.contains) }
        for (name, description, contains) in Self.builtInRoles + appRoles {
            let existing = try await store.list(
                EncodedQuery(groups: [[.init(field: "name", op: .equals, value: name)]]), limit: 1, offset: 0,
                counting: .skip)
            guard existing.records.isEmpty else { continue }
            _ = try await insert(
                DeskTables.role,
                ["name": name, "description": description, "contains_roles": contains.joined(separator: ",")])
        }
    }

    /// Creates a user with roles; returns the user's `sys_id`.
    @discardableResult
    package func createUser(
        userName: String, firstName: String, lastName: String, email: String, password: String, roles: [String],
        webServiceAccessOnly: Bool = false
    ) async throws -> String {
        // Resolve every role first, so an unknown one leaves no half-made user behind.
        let roleStore = TableStore(table: DeskTables.role, sql: try sql)
        var roleIds: [String] = []
        for role in roles {
            let found = try await roleStore.list(
                EncodedQuery(groups: [[.init(field: "name", op: .equals, value: role)]]), limit: 1, offset: 0,
                counting: .skip)
            guard let roleId = found.records.first?["sys_id"] ?? nil else {
                throw DeskError.badRequest("Unknown role '\(role)'", detail: nil)
            }
            roleIds.append(roleId)
        }
        let user = RecordService.Fields([
            "user_name": userName, "first_name": firstName, "last_name": lastName, "email": email,
            "user_password": password, "web_service_access_only": webServiceAccessOnly,
        ])
        let assigned = roleIds
        return try await RecordService(app: app, by: "system").transaction { writer in
            guard let userId = try await writer.insert(DeskTables.user, user)["sys_id"] ?? nil else {
                throw DeskError.internalError
            }
            for roleId in assigned {
                _ = try await writer.insert(DeskTables.userRole, .init(["user": userId, "role": roleId]))
            }
            return userId
        }
    }

    /// An inbound OAuth entity ("OAuth API endpoint for external clients"): a generated client ID and a
    /// generated secret, returned once.
    package func createInboundEntity(
        name: String, accessTokenLifespan: Int = 1800, refreshTokenLifespan: Int = 8_640_000
    ) async throws -> (clientId: String, clientSecret: String) {
        let secret = Self.generateClientSecret()
        let entity = try await insert(
            DeskTables.oauthEntity,
            [
                "name": name, "type": "client", "client_secret": secret,
                "access_token_lifespan": accessTokenLifespan, "refresh_token_lifespan": refreshTokenLifespan,
            ])
        guard let clientId = entity["client_id"] ?? nil else { throw DeskError.internalError }
        return (clientId, secret)
    }

    /// A client secret of 32 characters from an alphabet without look-alikes.
    static func generateClientSecret() -> String {
        RandomToken.string(length: 32, alphabet: "abcdefghijkmnopqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789!#%+-_~")
    }

    /// Inserts a record as the system would through the Table API, with its rules.
    @discardableResult
    func insert(_ table: TableSchema, _ fields: [String: Any], by userName: String = "system") async throws
        -> TableStore.Record
    {
        try await RecordService(app: app, by: userName).insert(table, .init(fields))
    }
}

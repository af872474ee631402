import Foundation
import SQLKit
import ServerSupport
import Vapor
import WireModels

/// Organization profiles: each tenant's support integration settings and repositories. Secrets are sealed
/// with the master key on the way in and never leave except to the code that calls the desk with them.
struct ProfileStore {
    let sql: any SQLDatabase
    let masterKey: MasterKey
    let now: @Sendable () -> Date

    static let profiles = "connector_profiles"
    static let repositories = "connector_repositories"

    private struct ProfileRow: Decodable {
        let support_tool: String
        let app_id: String?
        let graph_client_id: String?
        let graph_client_secret: String?
        let graph_secret_changed_at: Double?
        let updated_at: Double
        let updated_by: String?
    }

    private struct RepositoryRow: Decodable {
        let repository_id: String
        let endpoint: String
        let authentication_type: String
        let client_id: String?
        let client_secret: String?
        let client_secret_changed_at: Double?
        let refresh_token_expiration: Int
        let rest_user_name: String?
        let rest_user_password: String?
        let rest_user_password_changed_at: Double?
        let updated_at: Double

        var wire: OrganizationProfile.Repository {
            OrganizationProfile.Repository(
                repositoryId: repository_id, endpoint: endpoint, authenticationType: authentication_type,
                clientId: client_id,
                clientSecret: .init(isSet: client_secret != nil, changedAt: date(client_secret_changed_at)),
                refreshTokenExpiration: refresh_token_expiration, restUserName: rest_user_name,
                restUserPassword: .init(
                    isSet: rest_user_password != nil, changedAt: date(rest_user_password_changed_at)),
                updatedAt: date(updated_at))
        }
    }

    private struct SyncRow: Decodable {
        let last_synced_at: Double?
        let last_attempt_at: Double?
        let last_error: String?
    }

    // MARK: Reading

    /// The tenant's profile; a tenant that has none yet gets an empty one (support tool `none`, no App ID).
    func profile(tenant: String) async throws -> OrganizationProfile {
        let row = try await sql.select().columns("*").from(Self.profiles).where("tenant_id", .equal, tenant)
            .first(decoding: ProfileRow.self)
        let repositories = try await sql.select().columns("*").from(Self.repositories)
            .where("tenant_id", .equal, tenant).orderBy("repository_id").all(decoding: RepositoryRow.self)
        var graphSync: OrganizationProfile.GraphSync?
        if let row, let clientId = row.graph_client_id {
            let sync = try await sql.select().columns("*").from("connector_health_sync")
                .where("tenant_id", .equal, tenant).first(decoding: SyncRow.self)
            graphSync = OrganizationProfile.GraphSync(
                clientId: clientId,
                clientSecret: .init(
                    isSet: row.graph_client_secret != nil, changedAt: date(row.graph_secret_changed_at)),
                lastSyncedAt: date(sync?.last_synced_at), lastAttemptAt: date(sync?.last_attempt_at),
                lastError: sync?.last_error)
        }
        return OrganizationProfile(
            tenantId: tenant, supportTool: row?.support_tool ?? "none", appId: row?.app_id,
            repositories: repositories.map(\.wire), graphSync: graphSync, updatedAt: date(row?.updated_at),
            updatedBy: row?.updated_by)
    }

    /// The credentials of a repository, unsealed, for calling the desk.
    struct RepositoryCredentials: Sendable {
        let repository: OrganizationProfile.Repository
        let clientSecret: String?
        let restUserPassword: String?
    }

    func credentials(tenant: String, repositoryId: String) async throws -> RepositoryCredentials? {
        guard
            let row = try await sql.select().columns("*").from(Self.repositories).where("tenant_id", .equal, tenant)
                .where("repository_id", .equal, repositoryId).first(decoding: RepositoryRow.self)
        else { return nil }
        return RepositoryCredentials(
            repository: row.wire, clientSecret: try row.client_secret.map { try masterKey.open($0) },
            restUserPassword: try row.rest_user_password.map { try masterKey.open($0) })
    }

    /// Live Graph credentials of every tenant that has them: (tenant, client ID, secret).
    func graphCredentials() async throws -> [(tenant: String, clientId: String, secret: String)] {
        try await sql.select().columns("*").from(Self.profiles).where("graph_client_id", .isNot, SQLLiteral.null)
            .all().compactMap { row in
                guard let tenant = try? row.decode(column: "tenant_id", as: String.self),
                    let clientId = try row.decode(column: "graph_client_id", as: String?.self),
                    let sealed = try row.decode(column: "graph_client_secret", as: String?.self)
                else { return nil }
                return (tenant, clientId, try masterKey.open(sealed))
            }
    }

    // MARK: Writing

    func update(tenant: String, _ input: OrganizationProfileUpdate, by user: String?) async throws
        -> OrganizationProfile
    {
        var current = try await profile(tenant: tenant)
        if let tool = input.supportTool {
            guard
                let known = OrganizationProfile.supportTools.first(where: {
                    $0.caseInsensitiveCompare(tool) == .orderedSame
                })
            else {
                throw ConnectorError.invalid(
                    "The internal support tool is one of \(OrganizationProfile.supportTools.joined(separator: ", ")).")
            }
            current.supportTool = known
        }
        if let appId = input.appId?.trimmingCharacters(in: .whitespaces) {
            if appId.isEmpty {
                current.appId = nil
            } else {
                guard let id = UUID(uuidString: appId) else {
                    throw ConnectorError.invalid(
                        "The App ID is the app registration's application (client) ID, a GUID.")
                }
                current.appId = id.uuidString.lowercased()
            }
        }
        try await ensureRow(tenant: tenant)
        try await sql.update(Self.profiles)
            .set("support_tool", to: current.supportTool).set("app_id", to: current.appId)
            .set("updated_at", to: now().timeIntervalSince1970).set("updated_by", to: user)
            .where("tenant_id", .equal, tenant).run()
        return try await profile(tenant: tenant)
    }

    func setGraphSync(tenant: String, _ input: GraphSyncInput, by user: String?) async throws -> OrganizationProfile {
        let clientId = input.clientId.trimmingCharacters(in: .whitespaces)
        try await ensureRow(tenant: tenant)
        if clientId.isEmpty {
            try await sql.update(Self.profiles).set("graph_client_id", to: SQLLiteral.null)
                .set("graph_client_secret", to: SQLLiteral.null).set("graph_secret_changed_at", to: SQLLiteral.null)
                .set("updated_at", to: now().timeIntervalSince1970).set("updated_by", to: user)
                .where("tenant_id", .equal, tenant).run()
            return try await profile(tenant: tenant)
        }
        guard UUID(uuidString: clientId) != nil else {
            throw ConnectorError.invalid("The Graph client ID is an app registration's application ID, a GUID.")
        }
        var update = sql.update(Self.profiles).set("graph_client_id", to: clientId.lowercased())
            .set("updated_at", to: now().timeIntervalSince1970).set("updated_by", to: user)
        if let secret = input.clientSecret {
            try Self.checkSecret(secret, name: "client secret")
            update = update.set("graph_client_secret", to: secret.isEmpty ? nil : try masterKey.seal(secret))
                .set("graph_secret_changed_at", to: now().timeIntervalSince1970)
        }
        try await update.where("tenant_id", .equal, tenant).run()
        return try await profile(tenant: tenant)
    }

    /// Adds a repository (`create`) or changes one; absent fields keep their values, an empty secret clears it.
    func saveRepository(
        tenant: String, _ input: RepositoryInput, create: Bool, existingId: String? = nil, by user: String?
    )
        async throws -> OrganizationProfile.Repository
    {
        let id = (existingId ?? input.repositoryId ?? "").trimmingCharacters(in: .whitespaces)
        guard (1...100).contains(id.count), id.unicodeScalars.allSatisfy({ $0.value > 0x20 && $0.value != 0x7f }) else {
            throw ConnectorError.invalid("A repository ID is 1 to 100 characters without spaces or control characters.")
        }
        let existing = try await sql.select().columns("*").from(Self.repositories).where("tenant_id", .equal, tenant)
            .where("repository_id", .equal, id).first(decoding: RepositoryRow.self)
        if create, existing != nil {
            throw ConnectorError(.conflict, .conflict, "The profile already has a repository \(id).")
        }
        if !create, existing == nil {
            throw ConnectorError(.notFound, .repositoryNotRegistered, "The profile has no repository \(id).")
        }
        let endpoint = try (input.endpoint ?? existing?.endpoint).map(Self.checkedEndpoint)
        guard let endpoint else {
            throw ConnectorError.invalid("A repository needs its endpoint: the desk's base URL.")
        }
        let type = (input.authenticationType ?? existing?.authentication_type ?? "").lowercased()
        guard OrganizationProfile.Repository.authenticationTypes.contains(type) else {
            throw ConnectorError.invalid("The authentication type is basic or aad.")
        }
        let expiration =
            input.refreshTokenExpiration ?? existing?.refresh_token_expiration
            ?? OrganizationProfile.Repository.defaultRefreshTokenExpiration
        guard (60...31_536_000).contains(expiration) else {
            throw ConnectorError.invalid("The refresh token expiration is 60 to 31536000 seconds (default 864000).")
        }
        for (name, value) in [("client ID", input.clientId), ("REST user name", input.restUserName)] {
            if let value, value.count > 256 || value.unicodeScalars.contains(where: { $0.value < 0x20 }) {
                throw ConnectorError.invalid("The \(name) is up to 256 characters without control characters.")
            }
        }
        let stamp = now().timeIntervalSince1970
        var values: [(String, SQLBind)] = [
            ("endpoint", SQLBind(endpoint)), ("authentication_type", SQLBind(type)),
            ("client_id", SQLBind(input.clientId.map { $0.isEmpty ? nil : $0 } ?? existing?.client_id)),
            ("refresh_token_expiration", SQLBind(expiration)),
            ("rest_user_name", SQLBind(input.restUserName.map { $0.isEmpty ? nil : $0 } ?? existing?.rest_user_name)),
            ("updated_at", SQLBind(stamp)),
        ]
        if let secret = input.clientSecret {
            try Self.checkSecret(secret, name: "client secret")
            values += [
                ("client_secret", SQLBind(secret.isEmpty ? nil : try masterKey.seal(secret))),
                ("client_secret_changed_at", SQLBind(stamp)),
            ]
        }
        if let password = input.restUserPassword {
            try Self.checkSecret(password, name: "REST user password")
            values += [
                ("rest_user_password", SQLBind(password.isEmpty ? nil : try masterKey.seal(password))),
                ("rest_user_password_changed_at", SQLBind(stamp)),
            ]
        }
        try await ensureRow(tenant: tenant)
        if existing == nil {
            let row =
                [("tenant_id", SQLBind(tenant)), ("repository_id", SQLBind(id)), ("created_at", SQLBind(stamp))]
                + values
            try await sql.insert(into: Self.repositories).columns(row.map(\.0)).values(row.map(\.1)).run()
        } else {
            var update = sql.update(Self.repositories)
            for (column, value) in values { update = update.set(SQLIdentifier(column), to: value) }
            try await update.where("tenant_id", .equal, tenant).where("repository_id", .equal, id).run()
        }
        try await sql.update(Self.profiles).set("updated_at", to: stamp).set("updated_by", to: user)
            .where("tenant_id", .equal, tenant).run()
        guard let saved = try await profile(tenant: tenant).repositories.first(where: { $0.repositoryId == id }) else {
            throw Abort(.internalServerError)
        }
        return saved
    }

    func deleteRepository(tenant: String, id: String) async throws {
        let deleted = try await sql.delete(from: Self.repositories).where("tenant_id", .equal, tenant)
            .where("repository_id", .equal, id).returning("repository_id").all()
        guard !deleted.isEmpty else {
            throw ConnectorError(
                .notFound, .repositoryNotRegistered, "The profile has no repository \(id.prefix(100)).")
        }
    }

    private func ensureRow(tenant: String) async throws {
        let exists =
            try await sql.select().column("tenant_id").from(Self.profiles).where("tenant_id", .equal, tenant)
            .first() != nil
        guard !exists else { return }
        try await sql.insert(into: Self.profiles).columns("tenant_id", "support_tool", "updated_at")
            .values(SQLBind(tenant), SQLBind("none"), SQLBind(now().timeIntervalSince1970)).run()
    }

    static func checkSecret(_ value: String, name: String) throws {
        guard value.utf8.count <= 1024, !value.unicodeScalars.contains(where: { $0.value < 0x20 }) else {
            throw ConnectorError.invalid("The \(name) is up to 1024 bytes without control characters.")
        }
    }

    /// An absolute http(s) URL without credentials, query or fragment; no trailing slash.
    static func checkedEndpoint(_ text: String) throws -> String {
        var value = text.trimmingCharacters(in: .whitespaces)
        while value.hasSuffix("/") { value.removeLast() }
        guard value.utf8.count <= 2048, let url = URLComponents(string: value),
            let scheme = url.scheme?.lowercased(), scheme == "https" || scheme == "http", let host = url.host,
            !host.isEmpty, url.user == nil, url.password == nil, url.query == nil, url.fragment == nil
        else {
            throw ConnectorError.invalid(
                "The endpoint is the desk's base URL, such as https://contoso.service-now.com ('\(text.prefix(100))').")
        }
        return value
    }
}

private func date(_ seconds: Double?) -> Date? {
    seconds.map(Date.init(timeIntervalSince1970:))
}

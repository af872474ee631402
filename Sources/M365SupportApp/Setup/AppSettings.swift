import Foundation
import SQLKit
import ServiceDesk

/// The setup mode that follows from the wizard's choices (DESIGN §2): whether Microsoft may call the desk back,
/// and how it authenticates when it does.
enum SetupMode: String, Sendable, Codable {
    /// Outbound only: service health and recommended solutions, no cases.
    case insightsOnly = "insights-only"
    /// Inbound calls with the desk's own OAuth client and a web-service-only user.
    case basic
    /// Inbound calls with Entra tokens verified by an OIDC entity.
    case aad

    var title: String {
        switch self {
        case .insightsOnly: "Insights only"
        case .basic: "Basic"
        case .aad: "Microsoft Entra ID (aad)"
        }
    }

    /// What the Connector's check calls the repository's authentication type.
    var authenticationType: String {
        switch self {
        case .insightsOnly: "none"
        case .basic: "basic"
        case .aad: "aad"
        }
    }

    var allowsCases: Bool { self != .insightsOnly }
}

/// What the setup wizard recorded: one row of `x_mioms_m365_assis_setting`.
struct AppSettings: Sendable, Equatable {
    /// The inbound step's answer.
    enum Inbound: String, Sendable {
        /// Skipped: Microsoft never calls the desk.
        case none
        /// An inbound OAuth client of the desk (basic).
        case client
        /// An OIDC-verified entity (aad).
        case oidc
    }

    var consentAt: Date?
    var consentBy: String?
    var outboundProfile: String?
    var connectorURL: String?
    var inbound: Inbound?
    var inboundEntity: String?
    var integrationUser: String?
    var restUserApp: String?
    var repositoryId: String?
    var ssoEnabled = false
    var adminEmail: String?
    var testEnvironment = false
    var completedAt: Date?
    var tenantId: String?
    var capabilities: [String] = []
    var updatedAt: Date?
    var updatedBy: String?
    /// Whether inbound calls are taken only from the addresses in ``ipAllowList``.
    var ipAllowListEnabled = false
    /// CIDR ranges, comma separated; the Connector on this machine unless the admin enters the addresses the
    /// Connector calls from.
    var ipAllowList = AppSettings.defaultAllowList

    static let defaultAllowList = "127.0.0.1/32, ::1/128"

    var mode: SetupMode? {
        switch inbound {
        case .none?: .insightsOnly
        case .client?: .basic
        case .oidc?: .aad
        case nil: nil
        }
    }

    /// Whether the wizard has run to its end and the Connector confirmed the profile.
    var isComplete: Bool { completedAt != nil }
}

/// Reads and writes the app's settings row.
struct AppSettingsStore: Sendable {
    static let table = "x_mioms_m365_assis_setting"
    static let rowId = "default"

    let sql: any SQLDatabase

    func load() async throws -> AppSettings {
        guard let row = try await sql.select().column("*").from(Self.table).where("id", .equal, Self.rowId).first()
        else { return AppSettings() }
        func text(_ column: String) throws -> String? {
            try row.decode(column: column, as: String?.self).flatMap { $0.isEmpty ? nil : $0 }
        }
        func date(_ column: String) throws -> Date? {
            try row.decode(column: column, as: Double?.self).map(Date.init(timeIntervalSince1970:))
        }
        return AppSettings(
            consentAt: try date("consent_at"), consentBy: try text("consent_by"),
            outboundProfile: try text("outbound_profile"), connectorURL: try text("connector_url"),
            inbound: try text("inbound_choice").flatMap(AppSettings.Inbound.init(rawValue:)),
            inboundEntity: try text("inbound_entity"), integrationUser: try text("integration_user"),
            restUserApp: try text("rest_user_app"), repositoryId: try text("repository_id"),
            ssoEnabled: try row.decode(column: "sso_enabled", as: Bool?.self) ?? false,
            adminEmail: try text("admin_email"),
            testEnvironment: try row.decode(column: "test_environment", as: Bool?.self) ?? false,
            completedAt: try date("completed_at"), tenantId: try text("tenant_id"),
            capabilities: (try text("capabilities") ?? "").split(separator: ",").map(String.init),
            updatedAt: try date("updated_at"), updatedBy: try text("updated_by"),
            ipAllowListEnabled: try row.decode(column: "ip_allow_list_enabled", as: Bool?.self) ?? false,
            ipAllowList: try text("ip_allow_list") ?? AppSettings.defaultAllowList)
    }

    func save(_ settings: AppSettings, by userName: String, at now: Date) async throws {
        let values: [(String, any Encodable & Sendable)] = [
            ("consent_at", settings.consentAt?.timeIntervalSince1970), ("consent_by", settings.consentBy),
            ("outbound_profile", settings.outboundProfile), ("connector_url", settings.connectorURL),
            ("inbound_choice", settings.inbound?.rawValue), ("inbound_entity", settings.inboundEntity),
            ("integration_user", settings.integrationUser), ("rest_user_app", settings.restUserApp),
            ("repository_id", settings.repositoryId), ("sso_enabled", settings.ssoEnabled),
            ("admin_email", settings.adminEmail), ("test_environment", settings.testEnvironment),
            ("completed_at", settings.completedAt?.timeIntervalSince1970), ("tenant_id", settings.tenantId),
            ("capabilities", settings.capabilities.joined(separator: ",")),
            ("updated_at", now.timeIntervalSince1970), ("updated_by", userName),
            ("ip_allow_list_enabled", settings.ipAllowListEnabled), ("ip_allow_list", settings.ipAllowList),
        ]
        try await sql.insert(into: Self.table).columns(["id"] + values.map(\.0))
            .values([SQLBind(Self.rowId)] + values.map { SQLBind($0.1) })
            .onConflict(with: ["id"]) { conflict in
                var conflict = conflict
                for (column, _) in values { conflict = conflict.set(excludedValueOf: column) }
                return conflict
            }
            .run()
    }

    /// Forgets every setting (the wizard starts over).
    func reset() async throws {
        try await sql.delete(from: Self.table).run()
    }
}

import Foundation
import WireModels

/// The tables the desk serves through its Table API.
enum DeskTables {
    static let incidentStates = [
        "1": "New", "2": "In Progress", "3": "On Hold", "6": "Resolved", "7": "Closed", "8": "Canceled",
    ]
    static let impactOrUrgency = ["1": "1 - High", "2": "2 - Medium", "3": "3 - Low"]
    static let priorities = [
        "1": "1 - Critical", "2": "2 - High", "3": "3 - Moderate", "4": "4 - Low", "5": "5 - Planning",
    ]

    static let user = TableSchema(
        name: "sys_user",
        columns: TableSchema.systemColumns + [
            .init("user_name", .string),
            .init("first_name", .string),
            .init("last_name", .string),
            .init("name", .string),
            .init("email", .string),
            .init("user_password", .password),
            .init("active", .boolean),
            .init("web_service_access_only", .boolean),
        ],
        displayColumn: "name",
        access: TableAccess(read: nil, write: [DeskRole.admin], delete: [DeskRole.admin]),
        behaviour: UserTable())

    static let role = TableSchema(
        name: "sys_user_role",
        columns: TableSchema.systemColumns + [
            .init("name", .string),
            .init("description", .string),
            .init("contains_roles", .string),
        ],
        displayColumn: "name",
        access: TableAccess(read: nil, write: [DeskRole.admin], delete: [DeskRole.admin]),
        behaviour: AccessTable())

    static let userRole = TableSchema(
        name: "sys_user_has_role",
        columns: TableSchema.systemColumns + [
            .init("user", .reference(table: "sys_user")),
            .init("role", .reference(table: "sys_user_role")),
        ],
        displayColumn: "sys_id",
        access: TableAccess(read: nil, write: [DeskRole.admin], delete: [DeskRole.admin]),
        behaviour: AccessTable())

    static let incident = TableSchema(
        name: "incident",
        columns: TableSchema.systemColumns + [
            .init("number", .string, readOnly: true),
            .init("short_description", .string),
            .init("description", .string),
            .init("caller_id", .reference(table: "sys_user")),
            .init(
                "category", .string,
                choices: [
                    "inquiry": "Inquiry / Help", "software": "Software", "hardware": "Hardware", "network": "Network",
                    "database": "Database",
                ]),
            .init("impact", .integer, choices: impactOrUrgency),
            .init("urgency", .integer, choices: impactOrUrgency),
            .init("priority", .integer, choices: priorities, readOnly: true),
            .init("state", .integer, choices: incidentStates),
            .init("assigned_to", .reference(table: "sys_user")),
            .init("opened_at", .dateTime),
            .init("resolved_at", .dateTime, readOnly: true),
            .init("closed_at", .dateTime, readOnly: true),
            .init("close_code", .string),
            .init("close_notes", .string),
            .init("active", .boolean, readOnly: true),
            .init("opened_by", .reference(table: "sys_user")),
            .init("resolved_by", .reference(table: "sys_user"), readOnly: true),
            .init("closed_by", .reference(table: "sys_user"), readOnly: true),
            .init("subcategory", .string),
            .init(
                "contact_type", .string,
                choices: ["email": "Email", "phone": "Phone", "self-service": "Self-service", "walk-in": "Walk-in"]),
            .init(
                "hold_reason", .integer,
                choices: [
                    "1": "Awaiting Caller", "3": "Awaiting Problem", "4": "Awaiting Vendor", "5": "Awaiting Change",
                ]),
            .init("work_notes", .journal),
            .init("comments", .journal),
        ],
        displayColumn: "number",
        access: TableAccess(
            read: [DeskRole.itil, M365SupportScope.insightsUser], write: [DeskRole.itil], delete: [DeskRole.admin]),
        behaviour: IncidentTable())

    /// System OAuth › Application Registry. `type`: `client` (an OAuth API endpoint for external clients:
    /// the desk issues tokens), `oauth_provider` (a third-party provider the desk gets tokens from),
    /// `oidc_provider` (verifies external ID tokens).
    static let oauthEntity = TableSchema(
        name: "oauth_entity",
        columns: TableSchema.systemColumns + [
            .init("name", .string),
            .init(
                "type", .string,
                choices: [
                    "client": "OAuth API endpoint for external clients",
                    "oauth_provider": "Connect to a third party OAuth Provider",
                    "oidc_provider": "Configure an OIDC provider to verify ID tokens",
                ]),
            .init("client_id", .string),
            .init("client_secret", .secret),
            // Seconds; at most ten years, so expiry arithmetic stays far from overflow.
            .init("access_token_lifespan", .integer, range: 1...315_360_000),
            .init("refresh_token_lifespan", .integer, range: 1...315_360_000),
            .init("active", .boolean),
            .init("redirect_url", .string),
            .init("token_url", .string),
            .init("default_grant_type", .string),
            .init("resource", .string),
            .init("scope", .string),
            .init("oidc_provider_configuration", .reference(table: "oidc_provider_configuration")),
        ],
        displayColumn: "name",
        access: TableAccess(read: [DeskRole.admin], write: [DeskRole.admin], delete: [DeskRole.admin]),
        behaviour: OAuthEntityTable())

    /// Journal entries (work notes and additional comments) of any record.
    static let journal = TableSchema(
        name: "sys_journal_field",
        columns: TableSchema.systemColumns + [
            .init("name", .string, readOnly: true),
            .init("element", .string, readOnly: true),
            .init("element_id", .string, readOnly: true),
            .init("value", .string, readOnly: true),
        ],
        displayColumn: "sys_created_on",
        access: TableAccess(read: [DeskRole.itil], write: [DeskRole.admin], delete: [DeskRole.admin]))

    static let all = [
        user, role, userRole, incident, oauthEntity, journal, oidcProviderConfiguration, oauthEntityProfile, syslog,
        outboundHTTPLog, scopePrivilege,
    ]

    static func named(_ name: String) -> TableSchema? { all.first { $0.name == name } }
}

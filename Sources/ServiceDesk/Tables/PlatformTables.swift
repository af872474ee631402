import Foundation
import WireModels

/// The platform tables behind the Application Registry, the logs and cross-scope access.
extension DeskTables {
    /// How the desk verifies external ID tokens: where the provider's metadata is, which claim names the user
    /// and which user field it matches. `oidc_config_cache_life_span` is in minutes, as in ServiceNow.
    static let oidcProviderConfiguration = TableSchema(
        name: "oidc_provider_configuration",
        columns: TableSchema.systemColumns + [
            .init("oidc_provider", .string),
            .init("oidc_metadata_url", .string),
            // Minutes; at most a year.
            .init("oidc_config_cache_life_span", .integer, range: 0...525_600),
            .init("user_claim", .string),
            .init("user_field", .string),
            // Tenant IDs (GUIDs), comma-separated, whose tokens a multi-tenant issuer may vouch for.
            .init("accepted_tenants", .string),
        ],
        displayColumn: "oidc_provider",
        access: TableAccess(read: [DeskRole.admin], write: [DeskRole.admin], delete: [DeskRole.admin]),
        behaviour: OIDCConfigurationTable())

    /// OAuth profiles: how the desk asks an outbound provider (`oauth_entity`) for tokens.
    static let oauthEntityProfile = TableSchema(
        name: "oauth_entity_profile",
        columns: TableSchema.systemColumns + [
            .init("name", .string),
            .init("oauth_entity", .reference(table: "oauth_entity")),
            .init(
                "grant_type", .string,
                choices: [
                    "client_credentials": "Client Credentials", "password": "Resource Owner Password Credentials",
                ]),
            .init("is_default", .boolean),
        ],
        displayColumn: "name",
        access: TableAccess(read: [DeskRole.admin], write: [DeskRole.admin], delete: [DeskRole.admin]))

    static let syslogLevels = ["-1": "Debug", "0": "Information", "1": "Warning", "2": "Error"]

    /// The system log an admin reads: what the desk and its apps report, each entry with a correlation ID.
    static let syslog = TableSchema(
        name: "syslog",
        columns: TableSchema.systemColumns + [
            .init("level", .integer, choices: syslogLevels),
            .init("source", .string),
            .init("message", .string),
            .init("correlation_id", .string),
        ],
        displayColumn: "message",
        access: TableAccess(read: [DeskRole.admin], write: [DeskRole.admin], delete: [DeskRole.admin]))

    /// Every outbound HTTP call the desk makes, with secrets, tokens and Authorization headers redacted.
    /// `response_time` in milliseconds; `url` without query values that could carry secrets.
    static let outboundHTTPLog = TableSchema(
        name: "sys_outbound_http_log",
        columns: TableSchema.systemColumns + [
            .init("http_method", .string),
            .init("hostname", .string),
            .init("path", .string),
            .init("response_status", .integer),
            .init("url", .string),
            .init("response_time", .integer),
            .init("request_size", .integer),
            .init("response_size", .integer),
            .init("request_headers", .string),
            .init("correlation_id", .string),
            .init("error_message", .string),
            .init("source", .string),
        ],
        displayColumn: "path",
        access: TableAccess(read: [DeskRole.admin], write: [DeskRole.admin], delete: [DeskRole.admin]))

    /// Cross-scope privileges: what an application scope may do with a table outside it.
    static let scopePrivilege = TableSchema(
        name: "sys_scope_privilege",
        columns: TableSchema.systemColumns + [
            .init("source_scope", .string),
            .init("target_scope", .string),
            .init("target_name", .string),
            .init("target_type", .string),
            .init(
                "operation", .string,
                choices: ["read": "Read", "write": "Write", "create": "Create", "delete": "Delete"]),
            .init("status", .string, choices: ["allowed": "Allowed", "denied": "Denied", "requested": "Requested"]),
        ],
        displayColumn: "target_name",
        access: TableAccess(read: [DeskRole.admin], write: [DeskRole.admin], delete: [DeskRole.admin]))
}

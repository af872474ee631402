import Foundation
import SQLKit
import ServerSupport
import Vapor
import WireModels

/// System OAuth › Application Registry for desk admins: `oauth_entity_list.do` and `oauth_entity.do` for the
/// three kinds of entity, with the OIDC provider configuration inline and "Get OAuth token" for providers.
struct RegistryPages: RouteCollection {
    static let kinds: [(type: String, title: String, text: String)] = [
        (
            "client", "Create an OAuth API endpoint for external clients",
            "Clients get tokens from this desk's /oauth_token.do (basic setup mode)."
        ),
        (
            "oauth_provider", "Connect to a third party OAuth Provider",
            "This desk gets tokens from a provider such as Entra ID for its outbound calls."
        ),
        (
            "oidc_provider", "Configure an OIDC provider to verify ID tokens",
            "Bearer JWTs of an external provider are accepted on this desk's APIs (aad setup mode)."
        ),
    ]

    func boot(routes: any RoutesBuilder) throws {
        routes.get(DeskPath.oauthEntityList.pathComponents) { request in
            _ = try request.requireWebUser(WebAccess.admin)
            return try await Self.list.render(
                request, heading: "Application Registry", newLink: (DeskPath.new(DeskPath.oauthEntity), "New"))
        }
        routes.get(DeskPath.oauthEntity.pathComponents) { request in
            _ = try request.requireWebUser(WebAccess.admin)
            let sysId = request.query[String.self, at: "sys_id"] ?? "-1"
            if sysId == "-1" {
                guard let type = request.query[String.self, at: "sysparm_type"],
                    Self.kinds.contains(where: { $0.type == type })
                else { return try await chooser(request) }
                return try await form(request, sysId: sysId, type: type, entered: [:])
            }
            return try await form(request, sysId: sysId, type: nil, entered: [:])
        }
        routes.form(DeskPath.oauthEntity.pathComponents, roles: WebAccess.admin, use: save)
    }

    static let list = ListView(
        table: DeskTables.oauthEntity,
        columns: [
            .init(field: "name", label: "Name"), .init(field: "type", label: "Type"),
            .init(field: "client_id", label: "Client ID"), .init(field: "active", label: "Active"),
            .init(field: "sys_updated_on", label: "Updated"),
        ],
        filters: [
            .init(parameter: "sysparm_search", label: "Search", kind: .text(fields: ["name", "client_id"])),
            .init(
                parameter: "sysparm_type", label: "Type",
                kind: .choice(field: "type", options: kinds.map { ($0.type, $0.title) })),
        ],
        recordPath: DeskPath.oauthEntity, defaultOrder: .init(field: "name", descending: false))

    struct Choices: Encodable, Sendable {
        struct Choice: Encodable, Sendable {
            let title: String
            let text: String
            let href: String
        }

        let heading: String
        let choices: [Choice]
    }

    private func chooser(_ request: Request) async throws -> Response {
        try await request.page(
            "choose", title: "What kind of OAuth application?",
            Choices(
                heading: "What kind of OAuth application?",
                choices: Self.kinds.map {
                    .init(title: $0.title, text: $0.text, href: "/oauth_entity.do?sys_id=-1&sysparm_type=\($0.type)")
                }))
    }

    private func form(
        _ request: Request, sysId: String, type: String?, entered: [String: String], error: String? = nil,
        secret: String? = nil, notice: String? = nil, status: HTTPResponseStatus = .ok
    ) async throws -> Response {
        let sql = try request.sqlDatabase
        var record: [String: String] = [:]
        if sysId != "-1" {
            guard let found = try await TableStore(table: DeskTables.oauthEntity, sql: sql).find(sysId) else {
                throw WebError.notFound("The OAuth application")
            }
            record = found.compactMapValues { $0 }
        }
        var config: [String: String] = [:]
        if let configId = record["oidc_provider_configuration"],
            let found = try await TableStore(table: DeskTables.oidcProviderConfiguration, sql: sql).find(configId)
        {
            config = found.compactMapValues { $0 }
        }
        record.merge(entered) { $1 }
        config.merge(entered) { $1 }
        let kind = type ?? record["type"] ?? "client"
        let isNew = sysId == "-1"
        var fields: [RecordForm.Field] = [
            .text("name", "Name", record["name"], required: true)
        ]
        var secondary: [RecordForm.Action] = []
        var facts: [RecordForm.Fact] = []
        switch kind {
        case "client":
            fields += [
                isNew
                    ? .readonly("Client ID", "Generated when you submit")
                    : .readonly("Client ID", record["client_id"]),
                .text(
                    "client_secret", "Client secret", nil, kind: "password",
                    help: isNew ? "Leave empty to generate a strong secret." : "Leave empty to keep the current secret."
                ),
                .text(
                    "access_token_lifespan", "Access token lifespan (seconds)",
                    record["access_token_lifespan"] ?? "1800", kind: "number"),
                .text(
                    "refresh_token_lifespan", "Refresh token lifespan (seconds)",
                    record["refresh_token_lifespan"] ?? "8640000", kind: "number"),
                .text("redirect_url", "Redirect URL", record["redirect_url"], kind: "url"),
            ]
        case "oauth_provider":
            fields += [
                .text("client_id", "Client ID", record["client_id"], required: true),
                .text(
                    "client_secret", "Client secret", nil, kind: "password",
                    help: isNew ? nil : "Leave empty to keep the current secret.", required: isNew),
                .select(
                    "default_grant_type", "Default grant type", record["default_grant_type"] ?? "client_credentials",
                    [("client_credentials", "Client Credentials")]),
                .text(
                    "token_url", "Token URL", record["token_url"], kind: "url",
                    help: "For example https://login.microsoftonline.com/{tenant}/oauth2/token", required: true),
                .text(
                    "redirect_url", "Redirect URL",
                    record["redirect_url"] ?? request.desk.config.endpoint.publicURL + DeskPath.oauthRedirect,
                    kind: "url"
                ),
                .text(
                    "resource", "Resource", record["resource"], help: "Sent as `resource` (Entra v1 token endpoint)."),
                .text("scope", "Scope", record["scope"], help: "Sent as `scope`, e.g. api://…/.default (v2 endpoint)."),
            ]
            if !isNew {
                secondary.append(.init(value: "get_token", title: "Get OAuth token", id: "get_token"))
                for profile in try await DeskQueries(sql: sql).profiles(ofEntity: sysId) {
                    facts.append(.init(label: "OAuth profile", value: profile.name, href: nil))
                }
            }
        default:
            fields += [
                .text(
                    "client_id", "Client ID", record["client_id"],
                    help: "Must equal the `aud` of the tokens: the client ID of the API app they are issued for.",
                    required: true),
                .text(
                    "client_secret", "Client secret", nil, kind: "password",
                    help: "Optional. Leave empty to keep the current secret."),
                .text("oidc_provider", "OIDC provider", config["oidc_provider"] ?? record["name"]),
                .text(
                    "oidc_metadata_url", "OIDC metadata URL", config["oidc_metadata_url"], kind: "url",
                    help: "For example https://login.microsoftonline.com/{tenant}/.well-known/openid-configuration",
                    required: true),
                .text(
                    "user_claim", "User claim", config["user_claim"] ?? "sub",
                    help: "The token claim that names the user: `appid` for Entra app tokens."),
                .select(
                    "user_field", "User field", config["user_field"] ?? "user_name",
                    [("user_name", "User ID"), ("email", "Email"), ("sys_id", "Sys ID")]),
                .text(
                    "oidc_config_cache_life_span", "OIDC configuration cache life span (minutes)",
                    config["oidc_config_cache_life_span"] ?? "120", kind: "number"),
                .text(
                    "accepted_tenants", "Accepted tenants", config["accepted_tenants"],
                    help: "Only for a multi-tenant metadata URL (issuer with {tenantid}): the tenant IDs whose "
                        + "tokens are accepted, comma-separated. Tokens of other tenants are refused."),
            ]
        }
        fields.append(.checkbox("active", "Active", (record["active"] ?? "true") == "true"))
        let title = Self.kinds.first { $0.type == kind }?.title ?? "OAuth application"
        let form = RecordForm(
            heading: isNew ? title : "\(record["name"] ?? "OAuth application") — \(title)",
            action: DeskPath.oauthEntity,
            sysId: sysId,
            fields: fields + [.hidden("type", kind)],
            buttons: [.init(value: "save", title: isNew ? "Submit" : "Update", id: "save")],
            secondaryButtons: secondary, backHref: DeskPath.oauthEntityList, error: error, secret: secret,
            secretLabel: secret == nil ? nil : "Client secret:", facts: facts)
        return try await request.page("record", title: form.heading, form, status: status, notice: notice)
    }

    private func save(_ request: Request, _ form: WebForm) async throws -> Response {
        let sql = try request.sqlDatabase
        let sysId = form["sys_id"] ?? "-1"
        let isNew = sysId == "-1"
        let store = TableStore(table: DeskTables.oauthEntity, sql: sql)
        let existing = isNew ? nil : try await store.find(sysId)
        if !isNew, existing == nil { throw WebError.notFound("The OAuth application") }
        let kind = existing.flatMap { $0["type"] ?? nil } ?? form["type"] ?? ""
        guard Self.kinds.contains(where: { $0.type == kind }) else {
            throw DeskError.badRequest(
                "Unknown kind of OAuth application", detail: "'\(kind)' is not one of the three kinds.")
        }
        if form["sysparm_action"] == "get_token", let existing {
            return try await getToken(request, entity: existing)
        }
        let entered = form.fields.filter { !["sysparm_ck", "client_secret", "sys_id"].contains($0.key) }
        let input = OAuthApplications.Input(
            kind: kind,
            values: form.fields.compactMapValues { value in
                let trimmed = value.trimmingCharacters(in: .whitespacesAndNewlines)
                return trimmed.isEmpty ? nil : trimmed
            }, active: form["active"] == "true")
        let saved: OAuthApplications.Saved
        do {
            saved = try await OAuthApplications(service: RecordService(request: request, by: form.user.userName))
                .save(input, sysId: sysId, existing: existing)
        } catch let invalid as OAuthApplications.Invalid {
            return try await self.form(
                request, sysId: sysId, type: kind, entered: entered, error: invalid.message, status: .badRequest)
        }
        let record = saved.record
        let name = (record["name"] ?? nil) ?? ""
        let id = (record["sys_id"] ?? nil) ?? ""
        request.logger.info("OAuth application saved", metadata: ["name": "\(name)", "type": "\(kind)"])
        if let generatedSecret = saved.generatedSecret {
            // Shown once, in this answer only: nothing keeps it in a URL, cookie or log.
            return try await self.form(
                request, sysId: id, type: kind, entered: [:], secret: generatedSecret,
                notice: "OAuth application \(name) created.")
        }
        return request.seeOther(
            DeskPath.record(DeskPath.oauthEntity, sysId: id), notice: "OAuth application \(name) saved.")
    }

    /// "Get OAuth token": asks the provider now with the entity's default profile; shows when the token
    /// expires or why there is none, never the token.
    private func getToken(_ request: Request, entity: TableStore.Record) async throws -> Response {
        let sql = try request.sqlDatabase
        let sysId = (entity["sys_id"] ?? nil) ?? ""
        guard let profile = try await DeskQueries(sql: sql).profiles(ofEntity: sysId).first?.sysId else {
            return try await form(
                request, sysId: sysId, type: nil, entered: [:], error: "This provider has no OAuth profile.",
                status: .conflict)
        }
        let oauth = OutboundOAuth(
            sql: sql, http: request.desk.http, masterKey: request.desk.config.masterKey, now: request.desk.config.now,
            logger: request.logger, correlationId: request.correlationId)
        do {
            let token = try await oauth.token(profileId: profile, forceRefresh: true)
            return try await form(
                request, sysId: sysId, type: nil, entered: [:],
                notice: "Token received; it expires at \(DeskTime.format(token.expiresAt)) UTC.")
        } catch let failure as OutboundOAuth.Failure {
            let reference = try await request.systemLog().write(
                .error, source: "oauth", "Get OAuth token failed: \(failure.message)",
                correlationId: request.correlationId)
            return try await form(
                request, sysId: sysId, type: nil, entered: [:],
                error: "\(failure.message). See the outbound HTTP log and system log entry \(reference).",
                status: .badGateway)
        }
    }
}

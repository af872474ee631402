import Foundation
import ServerSupport

/// The Application Registry's three kinds of OAuth application as an admin fills them in: what each kind
/// requires, its defaults, a generated client secret for a new inbound client, and the write (an OIDC entity
/// and its configuration together). The registry page calls it; so will the Microsoft 365 support app's wizard.
struct OAuthApplications {
    /// What the admin entered, by field name (trimmed; empty fields absent).
    struct Input {
        let kind: String
        let values: [String: String]
        let active: Bool

        func text(_ name: String) -> String? { values[name] }
    }

    /// A refusal the admin can act on, in their words.
    struct Invalid: Error, Sendable {
        let message: String
    }

    struct Saved {
        let record: TableStore.Record
        /// A client secret the desk generated: shown once, never stored in clear.
        let generatedSecret: String?
    }

    let service: RecordService

    func save(_ input: Input, sysId: String, existing: TableStore.Record?) async throws -> Saved {
        guard let name = input.text("name") else { throw Invalid(message: "Name is required.") }
        let isNew = existing == nil
        var fields: [String: Any] = ["name": name, "type": input.kind, "active": input.active]
        var configuration: (String?, RecordService.Fields)?
        var generatedSecret: String?
        switch input.kind {
        case "client":
            for field in ["access_token_lifespan", "refresh_token_lifespan"] {
                guard let value = InputNumber.parse(input.text(field) ?? "", in: 1...315_360_000) else {
                    throw Invalid(
                        message: "Token lifespans are whole numbers of seconds, from 1 to 315360000 (ten years).")
                }
                fields[field] = value
            }
            fields["redirect_url"] = input.text("redirect_url") ?? ""
            if let secret = input.text("client_secret") {
                fields["client_secret"] = secret
            } else if isNew {
                generatedSecret = DeskDirectory.generateClientSecret()
                fields["client_secret"] = generatedSecret
            }
        case "oauth_provider":
            guard let clientId = input.text("client_id"), let tokenURL = input.text("token_url") else {
                throw Invalid(message: "Client ID and token URL are required.")
            }
            guard Self.isWebURL(tokenURL) else { throw Invalid(message: "The token URL must be an http or https URL.") }
            guard !isNew || input.text("client_secret") != nil else {
                throw Invalid(message: "The client secret is required.")
            }
            fields["client_id"] = clientId
            fields["token_url"] = tokenURL
            fields["default_grant_type"] = input.text("default_grant_type") ?? "client_credentials"
            for field in ["redirect_url", "resource", "scope"] { fields[field] = input.text(field) ?? "" }
            if let secret = input.text("client_secret") { fields["client_secret"] = secret }
        default:
            guard let clientId = input.text("client_id"), let metadata = input.text("oidc_metadata_url") else {
                throw Invalid(message: "Client ID and OIDC metadata URL are required.")
            }
            guard Self.isWebURL(metadata) else {
                throw Invalid(message: "The OIDC metadata URL must be an http or https URL.")
            }
            guard let lifespan = InputNumber.parse(input.text("oidc_config_cache_life_span") ?? "120", in: 0...525_600)
            else {
                throw Invalid(message: "The cache life span is a whole number of minutes, from 0 to 525600 (a year).")
            }
            fields["client_id"] = clientId
            if let secret = input.text("client_secret") { fields["client_secret"] = secret }
            configuration = (
                existing.flatMap { $0["oidc_provider_configuration"] ?? nil },
                RecordService.Fields([
                    "oidc_provider": input.text("oidc_provider") ?? name, "oidc_metadata_url": metadata,
                    "user_claim": input.text("user_claim") ?? "sub",
                    "user_field": OIDCTokenVerifier.userFields[input.text("user_field") ?? ""] ?? "user_name",
                    "oidc_config_cache_life_span": lifespan, "accepted_tenants": input.text("accepted_tenants") ?? "",
                ])
            )
        }

        let entityFields = RecordService.Fields(fields)
        let oidcConfiguration = configuration
        do {
            // The entity and its OIDC configuration change together or not at all.
            let record = try await service.transaction { writer in
                var entity = entityFields.values
                if let (configId, configFields) = oidcConfiguration {
                    var updated: TableStore.Record?
                    if let configId {
                        updated = try await writer.update(DeskTables.oidcProviderConfiguration, configId, configFields)
                    }
                    if updated == nil {
                        let config = try await writer.insert(DeskTables.oidcProviderConfiguration, configFields)
                        entity["oidc_provider_configuration"] = (config["sys_id"] ?? nil) ?? ""
                    }
                }
                if !isNew {
                    guard let updated = try await writer.update(DeskTables.oauthEntity, sysId, .init(entity)) else {
                        throw Invalid(message: "The OAuth application no longer exists.")
                    }
                    return updated
                }
                return try await writer.insert(DeskTables.oauthEntity, .init(entity))
            }
            return Saved(record: record, generatedSecret: generatedSecret)
        } catch let error as DeskError where error.kind == .badRequest {
            throw Invalid(
                message: error.detail == "Unique key violation detected by database"
                    ? "Another OAuth application already has this client ID." : error.description)
        }
    }

    private static func isWebURL(_ text: String) -> Bool {
        guard let url = URL(string: text) else { return false }
        return ["http", "https"].contains(url.scheme ?? "") && url.host != nil
    }
}

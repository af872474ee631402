import Fluent
import Foundation

/// A client secret of an app registration. Only its SHA-256 digest is stored; the value is shown once.
final class ClientSecret: Model, @unchecked Sendable {
    static let schema = "identity_client_secrets"

    /// The secret ID (Entra's `keyId`), which people sometimes paste instead of the value.
    @ID(custom: .id, generatedBy: .user) var id: UUID?
    @Parent(key: "app_id") var app: AppRegistration
    @Field(key: "display_name") var displayName: String
    /// First three characters of the value, as the Entra portal shows them.
    @Field(key: "hint") var hint: String
    @Field(key: "secret_digest") var secretDigest: String
    @Field(key: "expires_at") var expiresAt: Date
    @Timestamp(key: "created_at", on: .create) var createdAt: Date?

    init() {}

    init(id: UUID = UUID(), appID: UUID, displayName: String, hint: String, secretDigest: String, expiresAt: Date) {
        self.id = id
        self.$app.id = appID
        self.displayName = displayName
        self.hint = hint
        self.secretDigest = secretDigest
        self.expiresAt = expiresAt
    }
}

/// An application permission: the client app holds `role` of the resource app (it appears in `roles`).
final class AppRoleGrant: Model, @unchecked Sendable {
    static let schema = "identity_app_role_grants"

    @ID(key: .id) var id: UUID?
    @Parent(key: "client_app_id") var clientApp: AppRegistration
    @Parent(key: "resource_app_id") var resourceApp: AppRegistration
    @Field(key: "role") var role: String

    init() {}

    init(clientAppID: UUID, resourceAppID: UUID, role: String) {
        self.$clientApp.id = clientAppID
        self.$resourceApp.id = resourceAppID
        self.role = role
    }
}

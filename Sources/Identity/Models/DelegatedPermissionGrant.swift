import Fluent
import Foundation

/// Consent to delegated permissions of one resource for one client app (Entra's `oAuth2PermissionGrant`):
/// for every user of the tenant (`AllPrincipals`, an administrator's consent) or for one user (`Principal`).
final class DelegatedPermissionGrant: Model, @unchecked Sendable {
    static let schema = "identity_delegated_permission_grants"

    enum ConsentType: String, Codable, Sendable {
        case allPrincipals = "AllPrincipals"
        case principal = "Principal"
    }

    @ID(key: .id) var id: UUID?
    @Parent(key: "client_app_id") var clientApp: AppRegistration
    @Parent(key: "resource_app_id") var resourceApp: AppRegistration
    @Field(key: "consent_type") var consentType: String
    @OptionalParent(key: "principal_id") var principal: DirectoryUser?
    /// Space-separated permission values, as Entra stores them.
    @Field(key: "scope") var scope: String
    @Timestamp(key: "created_at", on: .create) var createdAt: Date?

    init() {}

    init(clientAppID: UUID, resourceAppID: UUID, consentType: ConsentType, principalID: UUID?, scope: String) {
        self.$clientApp.id = clientAppID
        self.$resourceApp.id = resourceAppID
        self.consentType = consentType.rawValue
        self.$principal.id = principalID
        self.scope = scope
    }

    var scopes: [String] { scope.split(separator: " ").map(String.init) }
}

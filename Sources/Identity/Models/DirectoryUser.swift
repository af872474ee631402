import Fluent
import Foundation

/// A user of a tenant's directory. The ID is the user's object ID (`oid`).
final class DirectoryUser: Model, @unchecked Sendable {
    static let schema = "identity_users"

    @ID(custom: .id, generatedBy: .user) var id: UUID?
    @Parent(key: "tenant_id") var tenant: Tenant
    /// Lowercased user principal name, unique in the tenant.
    @Field(key: "user_principal_name") var userPrincipalName: String
    @Field(key: "display_name") var displayName: String
    @OptionalField(key: "mail") var mail: String?
    /// bcrypt.
    @Field(key: "password_hash") var passwordHash: String
    @Field(key: "account_enabled") var accountEnabled: Bool
    @Children(for: \.$user) var roleAssignments: [DirectoryRoleAssignment]
    @Timestamp(key: "created_at", on: .create) var createdAt: Date?

    init() {}

    init(
        id: UUID = UUID(), tenantID: UUID, userPrincipalName: String, displayName: String, mail: String?,
        passwordHash: String, accountEnabled: Bool
    ) {
        self.id = id
        self.$tenant.id = tenantID
        self.userPrincipalName = userPrincipalName.lowercased()
        self.displayName = displayName
        self.mail = mail
        self.passwordHash = passwordHash
        self.accountEnabled = accountEnabled
    }

    var objectId: String { (id ?? UUID()).uuidString.lowercased() }
}

/// A directory role (by Entra's role template ID) held by a user.
final class DirectoryRoleAssignment: Model, @unchecked Sendable {
    static let schema = "identity_directory_role_assignments"

    @ID(key: .id) var id: UUID?
    @Parent(key: "user_id") var user: DirectoryUser
    @Field(key: "role_template_id") var roleTemplateId: String

    init() {}

    init(userID: UUID, roleTemplateId: String) {
        self.$user.id = userID
        self.roleTemplateId = roleTemplateId
    }
}

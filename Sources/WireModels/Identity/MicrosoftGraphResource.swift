import Foundation

/// The Microsoft Graph resource as every tenant knows it: tokens for it carry `aud` = one of these.
package enum MicrosoftGraphResource {
    package static let appId = "00000003-0000-0000-c000-000000000000"
    package static let identifierURI = "https://graph.microsoft.com"
    package static let displayName = "Microsoft Graph"

    /// Application roles Graph offers that this system checks.
    package enum Role {
        package static let directoryReadAll = "Directory.Read.All"
        package static let userReadAll = "User.Read.All"
        package static let serviceHealthReadAll = "ServiceHealth.Read.All"
        package static let serviceMessageReadAll = "ServiceMessage.Read.All"
        package static let all = [directoryReadAll, userReadAll, serviceHealthReadAll, serviceMessageReadAll]
    }

    /// Delegated permissions Graph exposes that this system knows, and whether only an administrator may
    /// consent to them (as Entra's permission reference lists them).
    package static let delegatedScopes: [IdentityAdmin.ExposedScope] = [
        .init(value: "User.Read", adminConsentRequired: false),
        .init(value: "User.ReadBasic.All", adminConsentRequired: false),
        .init(value: "Mail.Read", adminConsentRequired: false),
        .init(value: "User.Read.All", adminConsentRequired: true),
        .init(value: "User.ReadWrite.All", adminConsentRequired: true),
        .init(value: "Directory.Read.All", adminConsentRequired: true),
        .init(value: "Directory.ReadWrite.All", adminConsentRequired: true),
        .init(value: "Group.Read.All", adminConsentRequired: true),
        .init(value: "GroupMember.Read.All", adminConsentRequired: true),
        .init(value: "RoleManagement.Read.Directory", adminConsentRequired: true),
        .init(value: "ServiceHealth.Read.All", adminConsentRequired: true),
        .init(value: "ServiceMessage.Read.All", adminConsentRequired: true),
    ]
}

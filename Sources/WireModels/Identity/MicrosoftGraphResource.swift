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
}

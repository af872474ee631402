import Foundation

/// The Connector's public paths, declared once for routes, tests and clients.
package enum ConnectorPath {
    package static let health = "healthz"
    package static let graphVersion = "v1.0"
    /// Graph's service communications base, under `/v1.0`.
    package static let serviceAnnouncement = "v1.0/admin/serviceAnnouncement"
    package static let issues = serviceAnnouncement + "/issues"
    package static let healthOverviews = serviceAnnouncement + "/healthOverviews"
    /// The Connector's own API (problem+json errors).
    package static let api = "api/v1"
    package static let organizationProfile = api + "/organizationProfile"
    package static let repositories = organizationProfile + "/repositories"
    package static let integrationCheck = api + "/supportIntegration/check"
    package static let recommendedSolutions = api + "/recommendedSolutions"
    package static let serviceRequests = api + "/serviceRequests"
    package static let administratorCheck = api + "/administratorCheck"
    /// The operator's API (admin bearer token).
    package static let adminAPI = "admin/api"
    package static let articles = adminAPI + "/knowledgeBase/articles"
}

/// What the Connector is as a resource in each tenant's directory: its identifier and the application roles it
/// checks.
package enum ConnectorResource {
    /// The default resource identifier (`M365_CONNECTOR_RESOURCE`): the `aud` of v1 tokens for the Connector.
    package static let defaultIdentifier = "api://m365-support-connector"
    package static let displayName = "Microsoft 365 support connector"

    package enum Role {
        /// Reading service health (Graph's own name for it).
        package static let serviceHealthRead = "ServiceHealth.Read.All"
        /// The support integration API: recommended solutions, cases, the integration check.
        package static let supportIntegration = "SupportIntegration.ReadWrite"
        package static let all = [serviceHealthRead, supportIntegration]
    }

    /// The delegated permission the profile page and API ask for on behalf of a signed-in administrator.
    package static let profileScope = "OrganizationProfile.ReadWrite"
}

/// The stable `code` of every refusal of the Connector's own API (problem+json), so a caller — the desk above
/// all — can tell "the Microsoft side is not configured yet" from any other failure.
package enum ConnectorErrorCode: String, Codable, Sendable, CaseIterable {
    /// No bearer token, or one that fails verification (signature, issuer, audience, lifetime).
    case invalidToken
    /// The token is valid but lacks the application role or delegated permission the endpoint needs.
    case missingRole
    /// The token's tenant is not served by this Connector.
    case tenantNotRegistered
    /// The tenant has no organization profile, or its support integration App ID is empty.
    case profileNotConfigured
    /// The token's `appid` is not the App ID of the tenant's organization profile.
    case appIdNotRegistered
    /// The repository named is not in the tenant's organization profile.
    case repositoryNotRegistered
    /// The repository exists but its endpoint or authentication type differs from what the caller says.
    case repositoryMismatch
    /// The signed-in user holds neither Global Administrator nor Service Support Administrator.
    case notAnAdministrator
    /// A case's contact is not a Microsoft 365 administrator of the tenant (the reason names the e-mail).
    case contactNotAdministrator
    /// The tenant's directory could not be read to check a contact (no credentials, or the directory refused).
    case directoryUnavailable
    /// The case is closed: it takes no more replies.
    case serviceRequestClosed
    /// The request is malformed or a value is out of range.
    case invalidRequest
    case notFound
    case conflict
    case internalError
}

/// The organization profile of one tenant: Settings → Org settings → Organization profiles → Support
/// integration. Secrets are never part of it: only whether each is set and when it changed.
package struct OrganizationProfile: Codable, Sendable, Equatable {
    package var tenantId: String
    /// `ServiceNow` or `none`.
    package var supportTool: String
    /// The outbound app registration allowed to call on the tenant's behalf.
    package var appId: String?
    package var repositories: [Repository]
    /// App credentials for reading the tenant's service health from live Microsoft Graph, if given.
    package var graphSync: GraphSync?
    package var updatedAt: Date?
    package var updatedBy: String?

    package init(
        tenantId: String, supportTool: String, appId: String?, repositories: [Repository], graphSync: GraphSync?,
        updatedAt: Date?, updatedBy: String?
    ) {
        self.tenantId = tenantId
        self.supportTool = supportTool
        self.appId = appId
        self.repositories = repositories
        self.graphSync = graphSync
        self.updatedAt = updatedAt
        self.updatedBy = updatedBy
    }

    package static let supportTools = ["ServiceNow", "none"]

    package struct Repository: Codable, Sendable, Equatable {
        package var repositoryId: String
        /// The desk's base URL.
        package var endpoint: String
        /// `basic` or `aad`.
        package var authenticationType: String
        package var clientId: String?
        package var clientSecret: SecretState
        package var refreshTokenExpiration: Int
        package var restUserName: String?
        package var restUserPassword: SecretState
        package var updatedAt: Date?

        package init(
            repositoryId: String, endpoint: String, authenticationType: String, clientId: String?,
            clientSecret: SecretState, refreshTokenExpiration: Int, restUserName: String?,
            restUserPassword: SecretState, updatedAt: Date?
        ) {
            self.repositoryId = repositoryId
            self.endpoint = endpoint
            self.authenticationType = authenticationType
            self.clientId = clientId
            self.clientSecret = clientSecret
            self.refreshTokenExpiration = refreshTokenExpiration
            self.restUserName = restUserName
            self.restUserPassword = restUserPassword
            self.updatedAt = updatedAt
        }

        package static let authenticationTypes = ["basic", "aad"]
        package static let defaultRefreshTokenExpiration = 864_000
    }

    package struct GraphSync: Codable, Sendable, Equatable {
        package var clientId: String
        package var clientSecret: SecretState
        package var lastSyncedAt: Date?
        package var lastAttemptAt: Date?
        package var lastError: String?

        package init(
            clientId: String, clientSecret: SecretState, lastSyncedAt: Date?, lastAttemptAt: Date?,
            lastError: String?
        ) {
            self.clientId = clientId
            self.clientSecret = clientSecret
            self.lastSyncedAt = lastSyncedAt
            self.lastAttemptAt = lastAttemptAt
            self.lastError = lastError
        }
    }

    /// Whether a secret is stored, and when it last changed; never its value.
    package struct SecretState: Codable, Sendable, Equatable {
        package var isSet: Bool
        package var changedAt: Date?

        package init(isSet: Bool, changedAt: Date?) {
            self.isSet = isSet
            self.changedAt = changedAt
        }
    }
}

/// Changes to a profile's basic information; absent fields stay as they are.
package struct OrganizationProfileUpdate: Codable, Sendable {
    package var supportTool: String?
    /// An empty string clears it.
    package var appId: String?

    package init(supportTool: String? = nil, appId: String? = nil) {
        self.supportTool = supportTool
        self.appId = appId
    }
}

/// A repository as written; secrets travel only this way in. On update, absent fields stay as they are and an
/// empty secret clears it.
package struct RepositoryInput: Codable, Sendable {
    package var repositoryId: String?
    package var endpoint: String?
    package var authenticationType: String?
    package var clientId: String?
    package var clientSecret: String?
    package var refreshTokenExpiration: Int?
    package var restUserName: String?
    package var restUserPassword: String?

    package init(
        repositoryId: String? = nil, endpoint: String? = nil, authenticationType: String? = nil,
        clientId: String? = nil, clientSecret: String? = nil, refreshTokenExpiration: Int? = nil,
        restUserName: String? = nil, restUserPassword: String? = nil
    ) {
        self.repositoryId = repositoryId
        self.endpoint = endpoint
        self.authenticationType = authenticationType
        self.clientId = clientId
        self.clientSecret = clientSecret
        self.refreshTokenExpiration = refreshTokenExpiration
        self.restUserName = restUserName
        self.restUserPassword = restUserPassword
    }
}

/// Live Graph credentials for a tenant's service health; an empty client ID turns the sync off.
package struct GraphSyncInput: Codable, Sendable {
    package var clientId: String
    package var clientSecret: String?

    package init(clientId: String, clientSecret: String? = nil) {
        self.clientId = clientId
        self.clientSecret = clientSecret
    }
}

/// The desk's question at the end of its setup wizard: is my App ID registered, and does the profile hold my
/// repository with this endpoint and authentication type?
package struct IntegrationCheckRequest: Codable, Sendable {
    package var repositoryId: String?
    package var endpoint: String?
    /// `basic`, `aad`, or `none` (insights-only: no repository is needed).
    package var authenticationType: String?
    /// basic: the desk's inbound OAuth client ID; aad: the REST API app's client ID.
    package var clientId: String?
    /// basic: the integration user's name; aad: the REST user app's client ID.
    package var userName: String?

    package init(
        repositoryId: String? = nil, endpoint: String? = nil, authenticationType: String? = nil,
        clientId: String? = nil, userName: String? = nil
    ) {
        self.repositoryId = repositoryId
        self.endpoint = endpoint
        self.authenticationType = authenticationType
        self.clientId = clientId
        self.userName = userName
    }
}

package struct IntegrationCheckResult: Codable, Sendable, Equatable {
    package var tenantId: String
    package var appId: String
    package var repositoryId: String?
    /// What the Connector can do for this desk: `insights`, plus `cases` when a repository matches.
    package var capabilities: [String]

    package init(tenantId: String, appId: String, repositoryId: String?, capabilities: [String]) {
        self.tenantId = tenantId
        self.appId = appId
        self.repositoryId = repositoryId
        self.capabilities = capabilities
    }
}

/// A tenant the Connector serves.
package struct ConnectorTenant: Codable, Sendable, Equatable {
    package var tenantId: String
    package var displayName: String
    package var domains: [String]
    /// The Connector's own app ID in this tenant's directory (the `aud` of v2 tokens), when registered.
    package var resourceAppId: String?

    package init(tenantId: String, displayName: String, domains: [String], resourceAppId: String?) {
        self.tenantId = tenantId
        self.displayName = displayName
        self.domains = domains
        self.resourceAppId = resourceAppId
    }
}

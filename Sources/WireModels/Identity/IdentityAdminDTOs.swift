import Foundation

/// Requests and answers of Identity's admin API (`/admin/api/…`) and the `m365-support identity` CLI's `--json` output.
package enum IdentityAdmin {
    package struct CreateTenant: Codable, Sendable {
        package var name: String
        package var domains: [String]
        package var id: String?

        package init(name: String, domains: [String], id: String? = nil) {
            self.name = name
            self.domains = domains
            self.id = id
        }
    }

    package struct Tenant: Codable, Sendable, Equatable {
        package var id: String
        package var name: String
        package var domains: [String]

        package init(id: String, name: String, domains: [String]) {
            self.id = id
            self.name = name
            self.domains = domains
        }
    }

    package struct CreateUser: Codable, Sendable {
        package var userPrincipalName: String
        package var displayName: String
        package var mail: String?
        /// Generated when absent and returned once in ``User/password``.
        package var password: String?
        package var accountEnabled: Bool?

        package init(
            userPrincipalName: String, displayName: String, mail: String? = nil, password: String? = nil,
            accountEnabled: Bool? = nil
        ) {
            self.userPrincipalName = userPrincipalName
            self.displayName = displayName
            self.mail = mail
            self.password = password
            self.accountEnabled = accountEnabled
        }
    }

    package struct User: Codable, Sendable, Equatable {
        package var id: String
        package var userPrincipalName: String
        package var displayName: String
        package var mail: String?
        package var accountEnabled: Bool
        package var roles: [String]
        /// Only in the answer that created the user with a generated password.
        package var password: String?

        package init(
            id: String, userPrincipalName: String, displayName: String, mail: String?, accountEnabled: Bool,
            roles: [String], password: String? = nil
        ) {
            self.id = id
            self.userPrincipalName = userPrincipalName
            self.displayName = displayName
            self.mail = mail
            self.accountEnabled = accountEnabled
            self.roles = roles
            self.password = password
        }
    }

    package struct AssignRole: Codable, Sendable {
        /// Role display name or template ID.
        package var role: String

        package init(role: String) {
            self.role = role
        }
    }

    /// A delegated permission an app exposes as a resource (Entra's `oauth2PermissionScopes`).
    package struct ExposedScope: Codable, Sendable, Equatable {
        package var value: String
        /// Only an administrator may consent (Entra's `type: "Admin"`); otherwise any user may, for themselves.
        package var adminConsentRequired: Bool

        package init(value: String, adminConsentRequired: Bool) {
            self.value = value
            self.adminConsentRequired = adminConsentRequired
        }
    }

    /// Permissions an app requires of one resource (Entra's `requiredResourceAccess`): what `.default` asks
    /// consent for and what admin consent grants when no scopes are named.
    package struct RequiredAccess: Codable, Sendable, Equatable {
        /// The resource's appId or identifier URI; answers carry the appId.
        package var resource: String
        /// Delegated permissions.
        package var scopes: [String]?
        /// Application roles.
        package var roles: [String]?

        package init(resource: String, scopes: [String]? = nil, roles: [String]? = nil) {
            self.resource = resource
            self.scopes = scopes
            self.roles = roles
        }
    }

    /// Consent to delegated permissions (Entra's `oAuth2PermissionGrant`).
    package struct GrantConsent: Codable, Sendable {
        /// The resource's appId or identifier URI.
        package var resource: String
        /// The permissions consented to; nil: every delegated permission the client requires of the resource.
        package var scopes: [String]?
        /// A user (object ID or UPN) who consents for themselves; nil: admin consent for the whole tenant.
        package var user: String?

        package init(resource: String, scopes: [String]? = nil, user: String? = nil) {
            self.resource = resource
            self.scopes = scopes
            self.user = user
        }
    }

    package struct Consent: Codable, Sendable, Equatable {
        package var clientAppId: String
        package var resourceAppId: String
        /// `AllPrincipals` (admin consent for the tenant) or `Principal` (one user's own consent).
        package var consentType: String
        /// The consenting user's object ID, for `Principal`.
        package var principalId: String?
        package var scopes: [String]

        package init(
            clientAppId: String, resourceAppId: String, consentType: String, principalId: String?, scopes: [String]
        ) {
            self.clientAppId = clientAppId
            self.resourceAppId = resourceAppId
            self.consentType = consentType
            self.principalId = principalId
            self.scopes = scopes
        }
    }

    package struct CreateApp: Codable, Sendable {
        package var displayName: String
        package var redirectUris: [String]?
        package var identifierUris: [String]?
        package var appRoles: [String]?
        /// Delegated permissions the app exposes as a resource.
        package var exposedScopes: [ExposedScope]?
        /// Permissions the app requires of resources.
        package var requiredResourceAccess: [RequiredAccess]?
        /// 1 (default, as Entra's `accessTokenAcceptedVersion: null`) or 2.
        package var accessTokenVersion: Int?
        package var appRoleAssignmentRequired: Bool?
        /// Creates a first client secret and returns its value once; default true.
        package var withSecret: Bool?

        package init(
            displayName: String, redirectUris: [String]? = nil, identifierUris: [String]? = nil,
            appRoles: [String]? = nil, accessTokenVersion: Int? = nil, appRoleAssignmentRequired: Bool? = nil,
            withSecret: Bool? = nil, exposedScopes: [ExposedScope]? = nil,
            requiredResourceAccess: [RequiredAccess]? = nil
        ) {
            self.displayName = displayName
            self.redirectUris = redirectUris
            self.identifierUris = identifierUris
            self.appRoles = appRoles
            self.exposedScopes = exposedScopes
            self.requiredResourceAccess = requiredResourceAccess
            self.accessTokenVersion = accessTokenVersion
            self.appRoleAssignmentRequired = appRoleAssignmentRequired
            self.withSecret = withSecret
        }
    }

    package struct App: Codable, Sendable, Equatable {
        package var appId: String
        package var objectId: String
        package var servicePrincipalId: String
        package var tenantId: String
        package var displayName: String
        package var redirectUris: [String]
        package var identifierUris: [String]
        package var appRoles: [String]
        package var accessTokenVersion: Int
        package var exposedScopes: [ExposedScope]?
        package var requiredResourceAccess: [RequiredAccess]?
        /// Present only in the answer that created a secret.
        package var secret: String?
        package var secretId: String?
        package var secretExpiresAt: Date?

        package init(
            appId: String, objectId: String, servicePrincipalId: String, tenantId: String, displayName: String,
            redirectUris: [String], identifierUris: [String], appRoles: [String], accessTokenVersion: Int,
            exposedScopes: [ExposedScope]? = nil, requiredResourceAccess: [RequiredAccess]? = nil,
            secret: String? = nil, secretId: String? = nil, secretExpiresAt: Date? = nil
        ) {
            self.exposedScopes = exposedScopes
            self.requiredResourceAccess = requiredResourceAccess
            self.appId = appId
            self.objectId = objectId
            self.servicePrincipalId = servicePrincipalId
            self.tenantId = tenantId
            self.displayName = displayName
            self.redirectUris = redirectUris
            self.identifierUris = identifierUris
            self.appRoles = appRoles
            self.accessTokenVersion = accessTokenVersion
            self.secret = secret
            self.secretId = secretId
            self.secretExpiresAt = secretExpiresAt
        }
    }

    /// A redirect URI to add to an app registration (Authentication → Add a platform → Web).
    package struct AddRedirectURI: Codable, Sendable {
        package var uri: String

        package init(uri: String) { self.uri = uri }
    }

    package struct AddSecret: Codable, Sendable {
        package var displayName: String?
        /// Lifetime in days; default 180, as the Entra portal suggests.
        package var days: Int?

        package init(displayName: String? = nil, days: Int? = nil) {
            self.displayName = displayName
            self.days = days
        }
    }

    package struct Secret: Codable, Sendable, Equatable {
        package var appId: String
        package var secretId: String
        package var displayName: String
        package var hint: String
        package var expiresAt: Date
        /// The value, shown once.
        package var secret: String

        package init(
            appId: String, secretId: String, displayName: String, hint: String, expiresAt: Date, secret: String
        ) {
            self.appId = appId
            self.secretId = secretId
            self.displayName = displayName
            self.hint = hint
            self.expiresAt = expiresAt
            self.secret = secret
        }
    }

    package struct GrantAppRole: Codable, Sendable {
        /// Resource app's appId or identifier URI (`https://graph.microsoft.com` for Graph).
        package var resource: String
        package var role: String

        package init(resource: String, role: String) {
            self.resource = resource
            self.role = role
        }
    }

    package struct Grant: Codable, Sendable, Equatable {
        package var clientAppId: String
        package var resourceAppId: String
        package var role: String

        package init(clientAppId: String, resourceAppId: String, role: String) {
            self.clientAppId = clientAppId
            self.resourceAppId = resourceAppId
            self.role = role
        }
    }

    package struct SigningKey: Codable, Sendable, Equatable {
        package var kid: String
        package var createdAt: Date
        package var active: Bool
        /// When a retired key stops being published (its last tokens have expired by then).
        package var publishedUntil: Date?

        package init(kid: String, createdAt: Date, active: Bool, publishedUntil: Date?) {
            self.kid = kid
            self.createdAt = createdAt
            self.active = active
            self.publishedUntil = publishedUntil
        }
    }
}

import Foundation
import Vapor

/// A failure Identity reports in Entra's error shape, with the AADSTS code Entra uses for it.
///
/// `kind` is stable and free of data, fit for logs and metrics; `message` is the text after `AADSTS…: `.
package struct IdentityError: Error, Sendable {
    package enum Kind: String, Sendable {
        case tenantNotFound
        case applicationNotFound
        case invalidClientSecret
        case expiredClientSecret
        case missingClientCredential
        case missingParameter
        case unsupportedGrantType
        case invalidScope
        case scopeWithoutDefault
        case resourceNotFound
        case resourceParameterNotSupported
        case invalidGrant
        case codeAlreadyRedeemed
        case pkceMismatch
        case redirectURIMismatch
        case roleAssignmentRequired
        case methodNotAllowed
        case malformedRequest
        case unsupportedResponseType
        case invalidCredentials
        case accountDisabled
        case consentRequired
        case scopeNotExposed
        case pkceRequired
        case adminConsentRequired
        case consentDeclined
    }

    package let kind: Kind
    package let message: String

    private init(_ kind: Kind, _ message: String) {
        self.kind = kind
        self.message = message
    }

    /// Entra's AADSTS number for this failure.
    package var aadsts: Int {
        switch kind {
        case .tenantNotFound: 90002
        case .applicationNotFound: 700016
        case .invalidClientSecret: 7000215
        case .expiredClientSecret: 7000222
        case .missingClientCredential: 7000218
        case .missingParameter: 900144
        case .unsupportedGrantType: 70003
        case .invalidScope: 70011
        case .scopeWithoutDefault: 1002012
        case .resourceNotFound: 500011
        case .resourceParameterNotSupported: 901002
        case .invalidGrant: 70008
        case .codeAlreadyRedeemed: 54005
        case .pkceMismatch: 50148
        case .redirectURIMismatch: 50011
        case .roleAssignmentRequired: 501051
        case .methodNotAllowed: 900561
        case .malformedRequest: 9002313
        case .unsupportedResponseType: 70005
        case .invalidCredentials: 50126
        case .accountDisabled: 50057
        case .consentRequired: 65001
        case .scopeNotExposed: 650053
        case .pkceRequired: 9002325
        case .adminConsentRequired: 90094
        case .consentDeclined: 65004
        }
    }

    /// The OAuth 2.0 `error` value.
    package var oauthError: String {
        switch kind {
        case .invalidClientSecret, .expiredClientSecret, .missingClientCredential: "invalid_client"
        case .applicationNotFound: "unauthorized_client"
        case .unsupportedGrantType: "unsupported_grant_type"
        case .invalidScope, .scopeWithoutDefault: "invalid_scope"
        case .resourceNotFound: "invalid_resource"
        case .invalidGrant, .codeAlreadyRedeemed, .pkceMismatch, .roleAssignmentRequired, .invalidCredentials,
            .accountDisabled, .consentRequired:
            "invalid_grant"
        case .scopeNotExposed: "invalid_scope"
        case .adminConsentRequired, .consentDeclined: "access_denied"
        case .unsupportedResponseType: "unsupported_response_type"
        case .tenantNotFound, .missingParameter, .resourceParameterNotSupported, .redirectURIMismatch,
            .methodNotAllowed, .malformedRequest, .pkceRequired:
            "invalid_request"
        }
    }

    /// What MSAL reads beside `error` to decide what to do next.
    package var suberror: String? {
        kind == .consentRequired ? "consent_required" : nil
    }

    package var status: HTTPResponseStatus {
        switch kind {
        case .invalidClientSecret, .expiredClientSecret, .missingClientCredential: .unauthorized
        case .methodNotAllowed: .methodNotAllowed
        default: .badRequest
        }
    }

    static func tenantNotFound(_ tenant: String) -> Self {
        .init(
            .tenantNotFound,
            "Tenant '\(tenant)' not found. Check to make sure you have the correct tenant ID and are signing into the correct cloud."
        )
    }

    static func applicationNotFound(_ clientId: String, tenant: String) -> Self {
        .init(
            .applicationNotFound,
            "Application with identifier '\(clientId)' was not found in the directory '\(tenant)'. This can happen if the application has not been installed by the administrator of the tenant or consented to by any user in the tenant. You may have sent your authentication request to the wrong tenant."
        )
    }

    static func invalidClientSecret(appId: String) -> Self {
        .init(
            .invalidClientSecret,
            "Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID, for a secret added to app '\(appId)'."
        )
    }

    static func expiredClientSecret(appId: String) -> Self {
        .init(
            .expiredClientSecret,
            "The provided client secret keys for app '\(appId)' are expired. Create new keys for your app, or consider using certificate credentials for added security."
        )
    }

    static let missingClientCredential = Self(
        .missingClientCredential,
        "The request body must contain the following parameter: 'client_assertion' or 'client_secret'.")

    static func missingParameter(_ name: String) -> Self {
        .init(.missingParameter, "The request body must contain the following parameter: '\(name)'.")
    }

    static func unsupportedGrantType(_ grantType: String) -> Self {
        .init(.unsupportedGrantType, "The app requested an unsupported grant type '\(grantType)'.")
    }

    static func invalidScope(_ scope: String) -> Self {
        .init(
            .invalidScope,
            "The provided value for the input parameter 'scope' is not valid. The scope \(scope) is not valid.")
    }

    static func scopeWithoutDefault(_ scope: String) -> Self {
        .init(
            .scopeWithoutDefault,
            "The provided value for scope \(scope) is not valid. Client credential flows must have a scope value with /.default suffixed to the resource identifier (application ID URI)."
        )
    }

    static func resourceNotFound(_ resource: String, tenant: String) -> Self {
        .init(
            .resourceNotFound,
            "The resource principal named \(resource) was not found in the tenant named \(tenant). This can happen if the application has not been installed by the administrator of the tenant or consented to by any user in the tenant. You might have sent your authentication request to the wrong tenant."
        )
    }

    static let resourceParameterNotSupported = Self(
        .resourceParameterNotSupported, "The 'resource' request parameter is not supported.")

    static let invalidGrant = Self(
        .invalidGrant,
        "The provided authorization code or refresh token has expired due to inactivity. Send a new interactive authorization request for this user and resource."
    )

    static let codeAlreadyRedeemed = Self(
        .codeAlreadyRedeemed,
        "OAuth2 Authorization code was already redeemed, please retry with a new valid code or use an existing refresh token."
    )

    static let pkceMismatch = Self(
        .pkceMismatch,
        "The code_verifier does not match the code_challenge supplied in the authorization request for PKCE.")

    static func redirectURIMismatch(_ uri: String, appId: String) -> Self {
        .init(
            .redirectURIMismatch,
            "The redirect URI '\(uri)' specified in the request does not match the redirect URIs configured for the application '\(appId)'. Make sure the redirect URI sent in the request matches one added to your application."
        )
    }

    static func roleAssignmentRequired(client: String, resource: String) -> Self {
        .init(
            .roleAssignmentRequired,
            "Application '\(client)' is not assigned to a role for the application '\(resource)'.")
    }

    static func methodNotAllowed(_ method: String) -> Self {
        .init(.methodNotAllowed, "The endpoint only accepts POST, OPTIONS requests. Received a \(method) request.")
    }

    static let malformedRequest = Self(.malformedRequest, "Invalid request. Request is malformed or invalid.")

    static func unsupportedResponseType(_ value: String) -> Self {
        .init(.unsupportedResponseType, "response_type '\(value)' is not enabled for the application.")
    }

    static let invalidCredentials = Self(
        .invalidCredentials, "Error validating credentials due to invalid username or password.")

    static let accountDisabled = Self(
        .accountDisabled, "The user account is disabled.")

    static func consentRequired(client: String, name: String, missing: [String]) -> Self {
        .init(
            .consentRequired,
            "The user or administrator has not consented to use the application with ID '\(client)' named '\(name)'. Send an interactive authorization request for this user and resource. Permissions without consent: \(missing.joined(separator: ", "))."
        )
    }

    static func scopeNotExposed(_ scope: String, client: String, resource: String) -> Self {
        .init(
            .scopeNotExposed,
            "The application '\(client)' asked for scope '\(scope)' that doesn't exist on the resource '\(resource)'. Contact the app vendor."
        )
    }

    static let pkceRequired = Self(
        .pkceRequired,
        "Proof Key for Code Exchange is required: a public client must send a code_challenge (code_challenge_method S256) with the authorization request."
    )

    static func adminConsentRequired(_ permissions: [String]) -> Self {
        .init(
            .adminConsentRequired,
            "Admin consent is required for the permissions requested by this application: \(permissions.joined(separator: ", ")). Ask a Global Administrator of the tenant to consent for the organization."
        )
    }

    static let consentDeclined = Self(.consentDeclined, "User declined to consent to access the app.")
}

import Fluent
import Foundation

/// A one-time authorization code, stored by digest, bound to client, redirect URI and PKCE challenge.
final class AuthorizationCode: Model, @unchecked Sendable {
    static let schema = "identity_authorization_codes"

    @ID(key: .id) var id: UUID?
    @Field(key: "code_digest") var codeDigest: String
    @Parent(key: "app_id") var app: AppRegistration
    @Parent(key: "user_id") var user: DirectoryUser
    @Field(key: "redirect_uri") var redirectURI: String
    @Field(key: "scope") var scope: String
    /// v1 authorize requests name their resource; v2 ones carry it in `scope`.
    @OptionalField(key: "resource") var resource: String?
    @OptionalField(key: "nonce") var nonce: String?
    @OptionalField(key: "code_challenge") var codeChallenge: String?
    @OptionalField(key: "code_challenge_method") var codeChallengeMethod: String?
    @Field(key: "expires_at") var expiresAt: Date
    @OptionalField(key: "redeemed_at") var redeemedAt: Date?

    init() {}

    init(
        codeDigest: String, appID: UUID, userID: UUID, redirectURI: String, scope: String, resource: String?,
        nonce: String?, codeChallenge: String?, codeChallengeMethod: String?, expiresAt: Date
    ) {
        self.codeDigest = codeDigest
        self.$app.id = appID
        self.$user.id = userID
        self.redirectURI = redirectURI
        self.scope = scope
        self.resource = resource
        self.nonce = nonce
        self.codeChallenge = codeChallenge
        self.codeChallengeMethod = codeChallengeMethod
        self.expiresAt = expiresAt
    }
}

/// A refresh token, stored by digest. Each use replaces it with a new one.
final class RefreshToken: Model, @unchecked Sendable {
    static let schema = "identity_refresh_tokens"

    @ID(key: .id) var id: UUID?
    @Field(key: "token_digest") var tokenDigest: String
    @Parent(key: "app_id") var app: AppRegistration
    @Parent(key: "user_id") var user: DirectoryUser
    @Field(key: "scope") var scope: String
    @OptionalField(key: "resource") var resource: String?
    @Field(key: "expires_at") var expiresAt: Date
    @OptionalField(key: "revoked_at") var revokedAt: Date?

    init() {}

    init(tokenDigest: String, appID: UUID, userID: UUID, scope: String, resource: String?, expiresAt: Date) {
        self.tokenDigest = tokenDigest
        self.$app.id = appID
        self.$user.id = userID
        self.scope = scope
        self.resource = resource
        self.expiresAt = expiresAt
    }
}

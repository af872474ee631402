import Fluent

/// Identity's schema history. Append only: a shipped migration is never edited.
enum IdentityMigrations {
    static let all: [any Migration] = [
        CreateTenant(),
        CreateDirectoryUser(),
        CreateAppRegistration(),
        CreateAuthorizationGrant(),
        CreateSigningKey(),
        CreateSignInFailures(),
        AddDelegatedPermissions(),
    ]
}

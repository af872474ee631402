import Fluent
import Foundation

/// An RSA key that signs tokens. The private key is stored encrypted with the master key.
final class SigningKey: Model, @unchecked Sendable {
    static let schema = "identity_signing_keys"

    @ID(key: .id) var id: UUID?
    /// Base64url SHA-1 thumbprint of the certificate, as Entra's `kid` and `x5t`.
    @Field(key: "kid") var kid: String
    @Field(key: "private_key_sealed") var privateKeySealed: String
    /// Base64 DER of the self-signed certificate published in `x5c`.
    @Field(key: "certificate") var certificate: String
    @Field(key: "created_at") var createdAt: Date
    /// Set when a newer key took over signing.
    @OptionalField(key: "retired_at") var retiredAt: Date?
    /// Retired keys stay published until every token they signed has expired.
    @OptionalField(key: "published_until") var publishedUntil: Date?

    init() {}

    init(kid: String, privateKeySealed: String, certificate: String, createdAt: Date) {
        self.kid = kid
        self.privateKeySealed = privateKeySealed
        self.certificate = certificate
        self.createdAt = createdAt
    }
}

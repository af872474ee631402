import Foundation

/// A JWKS document as Entra publishes it at `/discovery/keys` and `/discovery/v2.0/keys`.
package struct JSONWebKeySet: Codable, Sendable, Equatable {
    package var keys: [JSONWebKey]

    package init(keys: [JSONWebKey]) {
        self.keys = keys
    }
}

/// One RSA signing key. `kid` and `x5t` are both the SHA-1 thumbprint of the key's certificate.
package struct JSONWebKey: Codable, Sendable, Equatable {
    package var kty: String
    package var use: String
    package var kid: String
    package var x5t: String
    package var n: String
    package var e: String
    package var x5c: [String]
    package var issuer: String?

    package init(
        kty: String = "RSA", use: String = "sig", kid: String, x5t: String, n: String, e: String,
        x5c: [String], issuer: String? = nil
    ) {
        self.kty = kty
        self.use = use
        self.kid = kid
        self.x5t = x5t
        self.n = n
        self.e = e
        self.x5c = x5c
        self.issuer = issuer
    }
}

import Crypto
import CryptoExtras
import Foundation
import ServerSupport

/// Compact RS256 JWTs: signing with a ring key, and verifying Identity's own tokens.
package enum JWTCoder {
    private struct Header: Codable {
        var typ: String?
        var alg: String
        var x5t: String?
        var kid: String?
    }

    /// Signs `claims`; v1 headers carry `x5t` beside `kid`, as Entra's do.
    package static func sign(_ claims: TokenClaims, with key: SigningKeyRing.Key, includeX5t: Bool) throws -> String {
        var header = CompactJSONObject()
        header.add("typ", "JWT")
        header.add("alg", "RS256")
        header.add("x5t", includeX5t ? key.kid : nil)
        header.add("kid", key.kid)
        let signingInput =
            Data(header.finish()).base64URLEncodedString() + "." + Data(claims.jsonBytes()).base64URLEncodedString()
        let signature = try key.privateKey.signature(for: Data(signingInput.utf8), padding: .insecurePKCS1v1_5)
        return signingInput + "." + signature.rawRepresentation.base64URLEncodedString()
    }

    /// Checks the shape, `alg` (RS256 only) and signature with ServerSupport's ``RS256JWT``; returns the claims.
    /// Time and audience are the caller's.
    package static func verify(
        _ token: String, keyForKid: (String) async throws -> SigningKeyRing.Key?
    ) async throws -> TokenClaims {
        let jwt = try RS256JWT.parse(token)
        guard let key = try await keyForKid(jwt.kid) else { throw JWTRefusal(reason: "unknown signing key") }
        guard jwt.isSigned(by: key.privateKey.publicKey) else { throw JWTRefusal(reason: "bad signature") }
        guard let claims = try? JSONDecoder().decode(TokenClaims.self, from: jwt.payload) else {
            throw JWTRefusal(reason: "the claims are not Identity's")
        }
        return claims
    }
}

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

    package enum VerificationError: Error {
        case malformed
        case unsupportedAlgorithm
        case unknownKey
        case badSignature
    }

    /// Checks the shape, `alg` (RS256 only) and signature; returns the claims. Time and audience are the caller's.
    package static func verify(
        _ token: String, keyForKid: (String) async throws -> SigningKeyRing.Key?
    ) async throws -> TokenClaims {
        let parts = token.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 3, let headerData = Data(base64URLEncoded: parts[0]),
            let claimsData = Data(base64URLEncoded: parts[1]), let signature = Data(base64URLEncoded: parts[2]),
            let header = try? JSONDecoder().decode(Header.self, from: headerData)
        else { throw VerificationError.malformed }
        guard header.alg == "RS256" else { throw VerificationError.unsupportedAlgorithm }
        guard let kid = header.kid, let key = try await keyForKid(kid) else { throw VerificationError.unknownKey }
        let signingInput = Data("\(parts[0]).\(parts[1])".utf8)
        guard
            key.privateKey.publicKey.isValidSignature(
                _RSA.Signing.RSASignature(rawRepresentation: signature), for: signingInput,
                padding: .insecurePKCS1v1_5)
        else { throw VerificationError.badSignature }
        guard let claims = try? JSONDecoder().decode(TokenClaims.self, from: claimsData) else {
            throw VerificationError.malformed
        }
        return claims
    }
}

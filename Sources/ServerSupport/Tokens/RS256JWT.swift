import Crypto
import CryptoExtras
import Foundation

/// Why a token was refused; logged (never the token), never shown to the caller.
package struct JWTRefusal: Error, Sendable, Equatable, CustomStringConvertible {
    package let reason: String

    package init(reason: String) {
        self.reason = reason
    }

    package var description: String { reason }
}

/// A compact JWT signed with RS256 — the only algorithm accepted, so `none` and HS256 "signed" with a public
/// key are refused before any key is looked at. Every service verifies tokens through this one type.
package struct RS256JWT: Sendable {
    /// Longer tokens are refused before decoding: real ones are a few kilobytes.
    package static let maxBytes = 16 * 1024
    /// Clock skew tolerated on `exp` and `nbf`.
    package static let skew: TimeInterval = 60

    package let kid: String
    /// The claims' JSON.
    package let payload: Data
    private let signingInput: Data
    private let signature: Data

    /// Checks the token's shape, that `alg` is RS256 and that a `kid` names the key.
    package static func parse(_ token: String) throws(JWTRefusal) -> RS256JWT {
        guard token.utf8.count <= maxBytes else {
            throw JWTRefusal(reason: "the token is longer than \(maxBytes) bytes")
        }
        let parts = token.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 3, let headerData = Data(base64URLEncoded: String(parts[0])),
            let payload = Data(base64URLEncoded: String(parts[1])),
            let signature = Data(base64URLEncoded: String(parts[2])),
            let header = try? JSONSerialization.jsonObject(with: headerData) as? [String: Any]
        else { throw JWTRefusal(reason: "not a JWT") }
        guard header["alg"] as? String == "RS256" else {
            throw JWTRefusal(
                reason: "algorithm '\((header["alg"] as? String ?? "none").prefix(20))' is not accepted (RS256 only)")
        }
        guard let kid = header["kid"] as? String, !kid.isEmpty else {
            throw JWTRefusal(reason: "no key ID (kid) in the token header")
        }
        return RS256JWT(
            kid: String(kid.prefix(200)), payload: payload, signingInput: Data("\(parts[0]).\(parts[1])".utf8),
            signature: signature)
    }

    /// Whether `key` made the signature.
    package func isSigned(by key: _RSA.Signing.PublicKey) -> Bool {
        key.isValidSignature(
            _RSA.Signing.RSASignature(rawRepresentation: signature), for: signingInput, padding: .insecurePKCS1v1_5)
    }

    /// The claims as a JSON object, for verifiers that read them loosely (external tokens).
    package func claimsObject() throws(JWTRefusal) -> [String: Any] {
        guard let claims = try? JSONSerialization.jsonObject(with: payload) as? [String: Any] else {
            throw JWTRefusal(reason: "the claims are not a JSON object")
        }
        return claims
    }

    /// `exp` must be ahead of `now` and `nbf` behind it, with ``skew`` either way; `exp` is required.
    package static func checkTimes(exp: Double?, nbf: Double?, now: Date) throws(JWTRefusal) {
        let current = now.timeIntervalSince1970
        guard let exp, exp.isFinite, exp + skew > current else { throw JWTRefusal(reason: "the token has expired") }
        if let nbf, !nbf.isFinite || nbf - skew > current { throw JWTRefusal(reason: "the token is not valid yet") }
    }

    /// A numeric claim, also when a library sent it as a string.
    package static func number(_ value: Any?) -> Double? {
        switch value {
        case let number as NSNumber: number.doubleValue
        case let text as String: Double(text)
        default: nil
        }
    }
}

import Crypto
import CryptoExtras
import Foundation
import Testing

@testable import ServerSupport

@Suite("RS256 JWTs: the one verifier every service uses")
struct RS256JWTTests {
    static let key = try! _RSA.Signing.PrivateKey(keySize: .bits2048)

    static func token(header: String, claims: String, key: _RSA.Signing.PrivateKey = key) throws -> String {
        let input = Data(header.utf8).base64URLEncodedString() + "." + Data(claims.utf8).base64URLEncodedString()
        let signature = try key.signature(for: Data(input.utf8), padding: .insecurePKCS1v1_5)
        return input + "." + signature.rawRepresentation.base64URLEncodedString()
    }

    @Test func aGoodTokenParsesAndVerifies() throws {
        let token = try Self.token(header: #"{"alg":"RS256","kid":"k1"}"#, claims: #"{"aud":"a","exp":2000000000}"#)
        let jwt = try RS256JWT.parse(token)
        #expect(jwt.kid == "k1")
        #expect(jwt.isSigned(by: Self.key.publicKey))
        #expect(try jwt.claimsObject()["aud"] as? String == "a")
        #expect(!jwt.isSigned(by: try _RSA.Signing.PrivateKey(keySize: .bits2048).publicKey))
    }

    @Test(arguments: [
        (#"{"alg":"none","kid":"k1"}"#, "algorithm 'none' is not accepted (RS256 only)"),
        (#"{"alg":"HS256","kid":"k1"}"#, "algorithm 'HS256' is not accepted (RS256 only)"),
        (#"{"kid":"k1"}"#, "algorithm 'none' is not accepted (RS256 only)"),
        (#"{"alg":"RS256"}"#, "no key ID (kid) in the token header"),
        (#"{"alg":"RS256","kid":""}"#, "no key ID (kid) in the token header"),
    ])
    func headersOtherThanRS256WithAKidAreRefused(header: String, reason: String) throws {
        let token = try Self.token(header: header, claims: "{}")
        #expect(throws: JWTRefusal(reason: reason)) { try RS256JWT.parse(token) }
    }

    @Test(arguments: ["", "a.b", "a.b.c.d", "!!!.???.***", String(repeating: "a", count: 20_000)])
    func malformedOrHugeTokensAreRefused(token: String) {
        #expect(throws: JWTRefusal.self) { try RS256JWT.parse(token) }
    }

    @Test func timesHoldWithSkewOnly() throws {
        let now = Date(timeIntervalSince1970: 1_000_000)
        try RS256JWT.checkTimes(exp: 1_000_000 - 30, nbf: 1_000_000 + 30, now: now)
        #expect(throws: JWTRefusal(reason: "the token has expired")) {
            try RS256JWT.checkTimes(exp: 1_000_000 - 61, nbf: nil, now: now)
        }
        #expect(throws: JWTRefusal(reason: "the token has expired")) {
            try RS256JWT.checkTimes(exp: nil, nbf: nil, now: now)
        }
        #expect(throws: JWTRefusal(reason: "the token has expired")) {
            try RS256JWT.checkTimes(exp: .infinity, nbf: nil, now: now)
        }
        #expect(throws: JWTRefusal(reason: "the token is not valid yet")) {
            try RS256JWT.checkTimes(exp: 2_000_000, nbf: 1_000_000 + 61, now: now)
        }
        #expect(RS256JWT.number("1700000000") == 1_700_000_000)
        #expect(RS256JWT.number(NSNumber(value: 5)) == 5)
    }
}

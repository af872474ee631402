import Crypto
import CryptoExtras
import Fluent
import Foundation
import ServerSupport
import SwiftASN1
import Synchronization
import Vapor
import WireModels
import X509

/// The RSA keys that sign Identity's tokens: the active one signs, retired ones stay published
/// until the tokens they signed have expired.
///
/// Keys live in the database (private halves sealed with the master key), so several instances share
/// them; each instance reloads them every `refreshInterval` and at once after it rotates.
package final class SigningKeyRing: Sendable {
    package struct Key: Sendable {
        package let kid: String
        package let privateKey: _RSA.Signing.PrivateKey
        package let jwk: JSONWebKey
        package let createdAt: Date
        package let retiredAt: Date?
        package let publishedUntil: Date?
    }

    private struct Snapshot {
        var active: Key?
        var published: [Key] = []
        var loadedAt: Date = .distantPast
    }

    private let masterKey: MasterKey
    private let now: @Sendable () -> Date
    private let refreshInterval: TimeInterval
    /// How long retired keys stay in the JWKS: the longest token lifetime plus clock skew.
    private let retiredKeyGrace: TimeInterval
    private let snapshot = Mutex(Snapshot())
    private let reloads = Mutex(0)

    /// How many times the keys were re-read from the database (for tests of the re-read budget).
    package var reloadCount: Int { reloads.withLock { $0 } }
    private static let publishedKeysMaxAge: TimeInterval = 1

    package init(
        masterKey: MasterKey, now: @escaping @Sendable () -> Date, refreshInterval: TimeInterval = 30,
        retiredKeyGrace: TimeInterval
    ) {
        self.masterKey = masterKey
        self.now = now
        self.refreshInterval = refreshInterval
        self.retiredKeyGrace = retiredKeyGrace
    }

    /// The key new tokens are signed with; creates the first key when the database has none.
    package func activeKey(on database: any Database) async throws -> Key {
        if let key = freshActiveKey() { return key }
        try await reload(on: database)
        if let key = snapshot.withLock({ $0.active }) { return key }
        _ = try await rotate(on: database)
        guard let key = snapshot.withLock({ $0.active }) else { throw Abort(.internalServerError) }
        return key
    }

    /// The active key when the snapshot is recent enough to sign with, without touching the database.
    package func freshActiveKey() -> Key? {
        snapshot.withLock { $0.loadedAt.distance(to: now()) < refreshInterval ? $0.active : nil }
    }

    /// Keys to publish in the JWKS: the active one and retired ones still within their grace time.
    ///
    /// Re-read at most a second old, unlike the signing key: when another instance or the CLI rotates, every
    /// instance publishes the new key at once, before anyone signs with it here.
    package func publishedKeys(on database: any Database) async throws -> [Key] {
        let current = now()
        if snapshot.withLock({ $0.loadedAt.distance(to: current) >= Self.publishedKeysMaxAge }) {
            try await reload(on: database)
        }
        _ = try await activeKey(on: database)
        return snapshot.withLock { $0.published }.filter { ($0.publishedUntil ?? .distantFuture) > current }
    }

    /// The published key with this `kid`. An unknown `kid` costs no more than a known one: the published keys
    /// are re-read at most once a second whatever tokens arrive (that is also how a key another instance
    /// rotated in becomes known), and a re-read decrypts only keys it has not seen before.
    package func verificationKey(kid: String, on database: any Database) async throws -> Key? {
        try await publishedKeys(on: database).first { $0.kid == kid }
    }

    /// Makes a new key the signing key and retires the current one.
    @discardableResult
    package func rotate(on database: any Database) async throws -> Key {
        let created = now()
        let material = try Self.generateKeyMaterial(now: created)
        let model = SigningKey(
            kid: material.kid, privateKeySealed: try masterKey.seal(material.privateKey.pemRepresentation),
            certificate: material.certificateDER.base64EncodedString(), createdAt: created)
        try await database.transaction { transaction in
            // It reads the active key before it writes: on SQLite, another rotation would otherwise fail it.
            try await transaction.asSQL().lockForWriting(table: SigningKey.schema, column: "retired_at")
            let current = try await SigningKey.query(on: transaction).filter(\.$retiredAt == nil).all()
            for key in current {
                key.retiredAt = created
                key.publishedUntil = created.addingTimeInterval(self.retiredKeyGrace)
                try await key.save(on: transaction)
            }
            try await model.create(on: transaction)
        }
        try await reload(on: database)
        return try load(model)
    }

    package func reload(on database: any Database) async throws {
        reloads.withLock { $0 += 1 }
        let models = try await SigningKey.query(on: database).sort(\.$createdAt, .descending).all()
        let known = snapshot.withLock { Dictionary($0.published.map { ($0.kid, $0) }, uniquingKeysWith: { a, _ in a }) }
        let keys = try models.map { model in
            // Only the retirement times change once a key exists; its private half is opened once.
            guard let key = known[model.kid] else { return try load(model) }
            return Key(
                kid: key.kid, privateKey: key.privateKey, jwk: key.jwk, createdAt: model.createdAt,
                retiredAt: model.retiredAt, publishedUntil: model.publishedUntil)
        }
        let active = keys.first { $0.retiredAt == nil }
        let loadedAt = now()
        snapshot.withLock { $0 = Snapshot(active: active, published: keys, loadedAt: loadedAt) }
    }

    private func load(_ model: SigningKey) throws -> Key {
        let privateKey = try _RSA.Signing.PrivateKey(pemRepresentation: try masterKey.open(model.privateKeySealed))
        let primitives = try privateKey.publicKey.getKeyPrimitives()
        let jwk = JSONWebKey(
            kid: model.kid, x5t: model.kid, n: primitives.modulus.base64URLEncodedString(),
            e: primitives.publicExponent.base64URLEncodedString(), x5c: [model.certificate])
        return Key(
            kid: model.kid, privateKey: privateKey, jwk: jwk, createdAt: model.createdAt, retiredAt: model.retiredAt,
            publishedUntil: model.publishedUntil)
    }

    private struct KeyMaterial {
        let kid: String
        let privateKey: _RSA.Signing.PrivateKey
        let certificateDER: Data
    }

    /// A 2048-bit RSA key and a self-signed certificate for it, whose SHA-1 thumbprint is the `kid`, as in Entra.
    private static func generateKeyMaterial(now: Date) throws -> KeyMaterial {
        let privateKey = try _RSA.Signing.PrivateKey(keySize: .bits2048)
        let name = try DistinguishedName { CommonName("m365-support identity token signing") }
        let certificate = try Certificate(
            version: .v3,
            serialNumber: Certificate.SerialNumber(),
            publicKey: Certificate.PublicKey(privateKey.publicKey),
            notValidBefore: now.addingTimeInterval(-300),
            notValidAfter: now.addingTimeInterval(5 * 365 * 86400),
            issuer: name,
            subject: name,
            signatureAlgorithm: .sha256WithRSAEncryption,
            extensions: Certificate.Extensions(),
            issuerPrivateKey: Certificate.PrivateKey(privateKey)
        )
        var serializer = DER.Serializer()
        try serializer.serialize(certificate)
        let der = Data(serializer.serializedBytes)
        let kid = Data(Insecure.SHA1.hash(data: der)).base64URLEncodedString()
        return KeyMaterial(kid: kid, privateKey: privateKey, certificateDER: der)
    }
}

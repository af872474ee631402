import Crypto
import Foundation

/// The key that encrypts stored secrets (AES-256-GCM).
///
/// Taken from `M365_MASTER_KEY` (base64 of 32 bytes) when set; otherwise read from
/// `{data}/master.key`, which is generated with mode 0600 on first use.
package struct MasterKey: Sendable {
    private let key: SymmetricKey

    package init(key: SymmetricKey) {
        self.key = key
    }

    package enum LoadError: Error, CustomStringConvertible {
        case malformed(source: String)

        package var description: String {
            switch self {
            case .malformed(let source):
                "\(source) must hold the base64 encoding of exactly 32 random bytes (try: openssl rand -base64 32)"
            }
        }
    }

    package static func load(environmentValue: String?, dataDirectory: URL) throws -> MasterKey {
        if let environmentValue, !environmentValue.isEmpty {
            return try MasterKey(base64: environmentValue, source: "M365_MASTER_KEY")
        }
        let file = dataDirectory.appendingPathComponent("master.key")
        if FileManager.default.fileExists(atPath: file.path) {
            let text = try String(contentsOf: file, encoding: .utf8)
            return try MasterKey(base64: text, source: file.path)
        }
        let key = SymmetricKey(size: .bits256)
        let encoded = key.withUnsafeBytes { Data($0).base64EncodedString() }
        try SecureFile.write(encoded + "\n", to: file, private: true)
        return MasterKey(key: key)
    }

    private init(base64: String, source: String) throws {
        guard let data = Data(base64Encoded: base64.trimmingCharacters(in: .whitespacesAndNewlines)),
            data.count == 32
        else { throw LoadError.malformed(source: source) }
        self.key = SymmetricKey(data: data)
    }

    /// Encrypts `plaintext`; the result (`v1.` + base64 of nonce, ciphertext and tag) is safe to store.
    package func seal(_ plaintext: String) throws -> String {
        let box = try AES.GCM.seal(Data(plaintext.utf8), using: key)
        guard let combined = box.combined else { throw CryptoKitError.incorrectParameterSize }
        return "v1." + combined.base64EncodedString()
    }

    /// Why a sealed value did not open. The crypto library's own codes differ by platform (BoringSSL reports
    /// whatever is first on its error queue), so callers and operators get this instead.
    package enum OpenError: Error, Equatable, CustomStringConvertible {
        /// Not a value `seal` wrote.
        case malformed
        /// Sealed with another master key, or altered since.
        case wrongKeyOrTampered

        package var description: String {
            switch self {
            case .malformed: "the stored value is not a sealed secret"
            case .wrongKeyOrTampered:
                "the stored secret does not open with this master key (is M365_MASTER_KEY or DATA/master.key the "
                    + "one the data was written with?)"
            }
        }
    }

    package func open(_ sealed: String) throws(OpenError) -> String {
        guard sealed.hasPrefix("v1."), let data = Data(base64Encoded: String(sealed.dropFirst(3))),
            let box = try? AES.GCM.SealedBox(combined: data)
        else { throw .malformed }
        guard let plaintext = try? AES.GCM.open(box, using: key) else { throw .wrongKeyOrTampered }
        return String(decoding: plaintext, as: UTF8.self)
    }
}

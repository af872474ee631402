import Foundation

/// What a password may be, for every service that hashes passwords with bcrypt.
///
/// bcrypt reads at most 72 bytes and stops at a NUL byte, so `secret` and `secret\0anything`, or two long
/// passwords sharing their first 72 bytes, would verify alike. The one rule here: a password with a NUL, or
/// longer than 72 bytes of UTF-8, is refused when it is set and never verifies when it is presented.
package enum PasswordRules {
    package static let maximumBytes = 72

    package enum Violation: Error, Equatable, Sendable, CustomStringConvertible {
        case empty
        case containsNUL
        case tooLong(bytes: Int)

        package var description: String {
            switch self {
            case .empty: "The password is empty."
            case .containsNUL: "The password contains a NUL character."
            case .tooLong(let bytes):
                "The password is \(bytes) bytes long; at most \(PasswordRules.maximumBytes) bytes (UTF-8) are allowed."
            }
        }
    }

    /// Why `password` may not be set, or nil when it may.
    package static func violation(_ password: String) -> Violation? {
        if password.isEmpty { return .empty }
        if password.utf8.contains(0) { return .containsNUL }
        let bytes = password.utf8.count
        return bytes > maximumBytes ? .tooLong(bytes: bytes) : nil
    }

    /// Whether a presented password is worth a bcrypt check: one that could never have been set cannot match.
    package static func mayVerify(_ password: String) -> Bool {
        !password.isEmpty && password.utf8.count <= maximumBytes && !password.utf8.contains(0)
    }
}

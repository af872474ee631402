import Foundation
import ServerSupport
import Vapor

/// A failure the desk reports in ServiceNow's envelope: `{"error":{"message","detail"},"status":"failure"}`.
///
/// `kind` is stable and free of data, for logs; `message` and `detail` are what the caller sees.
package struct DeskError: Error, Sendable, CustomStringConvertible {
    enum Kind: String, Sendable {
        case notAuthenticated
        case notAuthorized
        case notFound
        case badRequest
        case conflict
        case payloadTooLarge
        case tooManyRequests
        case internalError
    }

    let kind: Kind
    let message: String
    let detail: String?
    /// Seconds before the caller may try again (`Retry-After`), for ``Kind/tooManyRequests``.
    var retryAfter: TimeInterval? = nil

    /// `message: detail`, as a management command prints it.
    package var description: String { detail.map { "\(message): \($0)" } ?? message }

    var status: HTTPResponseStatus {
        switch kind {
        case .notAuthenticated: .unauthorized
        case .notAuthorized: .forbidden
        case .notFound: .notFound
        case .badRequest: .badRequest
        case .conflict: .conflict
        case .payloadTooLarge: .payloadTooLarge
        case .tooManyRequests: .tooManyRequests
        case .internalError: .internalServerError
        }
    }

    static let notAuthenticated = DeskError(
        kind: .notAuthenticated, message: "User Not Authenticated", detail: "Required to provide Auth information")
    static let notAuthorized = DeskError(
        kind: .notAuthorized, message: "User Not Authorized", detail: "Failed API level ACL Validation")
    static let recordNotFound = DeskError(
        kind: .notFound, message: "No Record found",
        detail: "Record doesn't exist or ACL restricts the record retrieval")
    static let internalError = DeskError(kind: .internalError, message: "Internal server error", detail: nil)

    static func invalidTable(_ name: String) -> DeskError {
        DeskError(kind: .badRequest, message: "Invalid table \(name)", detail: nil)
    }

    /// A request an app's scripted REST route refuses, in ServiceNow's envelope.
    package static func badRequest(_ message: String, detail: String?) -> DeskError {
        DeskError(kind: .badRequest, message: message, detail: detail)
    }

    /// A caller an app's scripted REST route refuses although it authenticated (wrong user, address not allowed).
    package static func forbidden(_ message: String, detail: String?) -> DeskError {
        DeskError(kind: .notAuthorized, message: message, detail: detail)
    }

    /// A request that contradicts what the app holds (e.g. an event for a case of another incident).
    package static func conflict(_ message: String, detail: String?) -> DeskError {
        DeskError(kind: .conflict, message: message, detail: detail)
    }

    /// Too many failed password checks for the user name or the caller's address.
    static func tooManyAttempts(retryAfter: TimeInterval) -> DeskError {
        DeskError(
            kind: .tooManyRequests, message: "Too many failed sign-in attempts",
            detail: "Try again in \(SignInThrottle.minutesText(retryAfter)).", retryAfter: retryAfter)
    }
}

/// ServiceNow's error envelope. `detail` is always present, `null` when there is nothing to add, as ServiceNow
/// sends it.
struct ServiceNowErrorBody: Codable, Sendable {
    struct Detail: Codable, Sendable {
        var message: String
        var detail: String?

        func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(message, forKey: .message)
            try container.encode(detail, forKey: .detail)
        }
    }

    var error: Detail
    var status = "failure"

    init(message: String, detail: String?) {
        self.error = Detail(message: message, detail: detail)
    }
}

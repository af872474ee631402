import Foundation

/// The JSON body Entra ID answers with when a token, authorize or discovery request fails.
package struct EntraErrorBody: Codable, Sendable, Equatable {
    /// OAuth 2.0 error code (`invalid_client`, `invalid_request`, …); clients branch on this.
    package var error: String
    /// `AADSTS{code}: {message}` followed by trace, correlation and timestamp lines, as Entra writes it.
    package var errorDescription: String
    package var errorCodes: [Int]
    /// `YYYY-MM-DD HH:MM:SSZ` (a space, not `T`), as Entra writes it.
    package var timestamp: String
    package var traceId: String
    package var correlationId: String
    package var errorUri: String?
    /// A finer reason MSAL acts on, e.g. `consent_required` with AADSTS65001.
    package var suberror: String?

    package init(
        error: String, errorDescription: String, errorCodes: [Int], timestamp: String,
        traceId: String, correlationId: String, errorUri: String? = nil, suberror: String? = nil
    ) {
        self.suberror = suberror
        self.error = error
        self.errorDescription = errorDescription
        self.errorCodes = errorCodes
        self.timestamp = timestamp
        self.traceId = traceId
        self.correlationId = correlationId
        self.errorUri = errorUri
    }

    enum CodingKeys: String, CodingKey {
        case error
        case errorDescription = "error_description"
        case errorCodes = "error_codes"
        case timestamp
        case traceId = "trace_id"
        case correlationId = "correlation_id"
        case errorUri = "error_uri"
        case suberror
    }
}

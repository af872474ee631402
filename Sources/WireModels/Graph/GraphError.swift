import Foundation

/// Microsoft Graph's error envelope: `{"error":{"code","message","innerError":{…}}}`.
package struct GraphErrorBody: Codable, Sendable, Equatable {
    package struct Detail: Codable, Sendable, Equatable {
        package var code: String
        package var message: String
        package var innerError: InnerError?
    }

    package struct InnerError: Codable, Sendable, Equatable {
        package var date: String
        package var requestId: String
        package var clientRequestId: String

        enum CodingKeys: String, CodingKey {
            case date
            case requestId = "request-id"
            case clientRequestId = "client-request-id"
        }
    }

    package var error: Detail

    package init(code: String, message: String, date: String, requestId: String, clientRequestId: String) {
        self.error = Detail(
            code: code, message: message,
            innerError: InnerError(date: date, requestId: requestId, clientRequestId: clientRequestId))
    }
}

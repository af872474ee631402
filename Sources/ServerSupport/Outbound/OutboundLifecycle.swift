import Foundation
import Logging
import Vapor

/// The outbound call log of a service without a log table of its own (the Connector): the process log line
/// every call gets anyway (``LoggedHTTPClient/record(_:in:logger:)``) is the record, under the ID this returns.
package struct ProcessOutboundLog: OutboundCallLog {
    package init() {}

    package func record(_ call: OutboundCall) async -> String {
        RandomToken.urlSafe(byteCount: 9)
    }
}

/// Closes a service's outbound client when the app stops.
package struct OutboundHTTPShutdown: LifecycleHandler {
    let http: any OutboundHTTPClient

    package init(http: any OutboundHTTPClient) {
        self.http = http
    }

    package func shutdownAsync(_ application: Application) async {
        do {
            try await http.shutdown()
        } catch {
            application.logger.warning(
                "Outbound HTTP client did not shut down cleanly", metadata: ["error": "\(error)"])
        }
    }
}

import Foundation
import Logging
import Vapor

/// An outbound call log that writes one process log line per call, for a service without a log table of its
/// own (the Connector): method, host, path, status and duration, already redacted.
package struct ProcessOutboundLog: OutboundCallLog {
    package let logger: Logger

    package init(logger: Logger) {
        self.logger = logger
    }

    package func record(_ call: OutboundCall) async -> String {
        let id = RandomToken.urlSafe(byteCount: 9)
        logger.info(
            "Outbound HTTP call",
            metadata: [
                "log_id": "\(id)", "source": "\(call.source)", "method": "\(call.method)", "host": "\(call.host)",
                "path": "\(call.path)", "status": "\(call.status.map(String.init) ?? "-")",
                "ms": "\(call.milliseconds)", "error": "\(call.error ?? "")",
                "correlation_id": "\(call.correlationId ?? "")",
            ])
        return id
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

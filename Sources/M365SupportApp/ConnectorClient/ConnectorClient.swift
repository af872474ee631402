import AsyncHTTPClient
import Foundation
import NIOCore
import ServerSupport
import ServiceDesk
import Vapor
import WireModels

/// Why the app could not get what it asked the Microsoft side for, as the guide's troubleshooting table words
/// it (DESIGN §5). `detail` is for the system log (host, status, the Connector's code); `message` is what the
/// agent reads.
struct AppFailure: Error, Sendable {
    enum Kind: String, Sendable {
        /// The wizard has not been run to its end.
        case setupIncomplete
        /// The Microsoft 365 administrator has not entered the App ID (or the tenant is not served).
        case finalStepMissing
        /// The token endpoint or the Connector did not answer.
        case unreachable
        /// The cross-scope access policy refuses reading the Application Registry.
        case crossScopeRefused
        /// A case's contact is not a Microsoft 365 administrator of the tenant.
        case contactNotAdministrator
        /// The case is closed and takes no more replies.
        case caseClosed
        /// Anything else the Connector or token endpoint answered.
        case unexpected
    }

    let kind: Kind
    let message: String
    let detail: String
    /// The outbound HTTP log entry of the failed call, when there was one.
    let outboundLogId: String?

    static let setupMessage = "Please contact your administrator and ask them to complete the application setup steps."
    static let finalStepMessage =
        "Please contact your administrator and ask them to complete the final step of application setup."
    static let supportMessage = "Please contact application support."

    static let saveFailedMessage = "Unable to save ticket details. Please contact application support."

    static func notAdministratorMessage(_ email: String) -> String {
        "\(email) is not a valid Microsoft 365 administrator account. A Microsoft 365 administrator is needed to "
            + "open a service request. Link an administrator account in the app."
    }

    static func setupIncomplete(_ detail: String) -> AppFailure {
        AppFailure(kind: .setupIncomplete, message: setupMessage, detail: detail, outboundLogId: nil)
    }
}

/// The Connector's problem+json refusal, as far as the app needs it.
struct ConnectorProblem: Decodable, Sendable {
    let code: String?
    let title: String?
    let detail: String?
}

/// Calls to the Connector with the outbound OAuth provider's token: every call logged by the platform's client,
/// a refused token renewed once, every failure turned into an ``AppFailure``.
struct ConnectorClient: Sendable {
    let services: DeskAppServices
    let profileId: String
    let baseURL: String

    static let decoder: JSONDecoder = {
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .custom { decoder in
            let text = try decoder.singleValueContainer().decode(String.self)
            if let date = ISO8601DateFormatter.plain.date(from: text)
                ?? ISO8601DateFormatter.withFractions.date(from: text)
            {
                return date
            }
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: text))
        }
        return decoder
    }()

    init(services: DeskAppServices, settings: AppSettings, defaultConnectorURL: String) throws {
        guard settings.isComplete, let profile = settings.outboundProfile else {
            throw AppFailure.setupIncomplete("The Microsoft 365 support setup has not been completed.")
        }
        self.services = services
        self.profileId = profile
        self.baseURL = ConnectorClient.trimmed(settings.connectorURL ?? defaultConnectorURL)
    }

    init(services: DeskAppServices, profileId: String, baseURL: String) {
        self.services = services
        self.profileId = profileId
        self.baseURL = ConnectorClient.trimmed(baseURL)
    }

    static func trimmed(_ url: String) -> String {
        var url = url
        while url.hasSuffix("/") { url.removeLast() }
        return url
    }

    var host: String { URL(string: baseURL)?.host ?? baseURL }

    func recommendedSolutions(_ body: RecommendedSolutionsRequest) async throws -> RecommendedSolutions {
        try await call(.POST, ConnectorPath.recommendedSolutions, json: body, as: RecommendedSolutions.self)
    }

    func check(_ body: IntegrationCheckRequest) async throws -> IntegrationCheckResult {
        try await call(.POST, ConnectorPath.integrationCheck, json: body, as: IntegrationCheckResult.self)
    }

    func createServiceRequest(_ body: ServiceRequestInput) async throws -> ServiceRequest {
        try await call(.POST, ConnectorPath.serviceRequests, json: body, as: ServiceRequest.self)
    }

    func serviceRequest(_ number: String) async throws -> ServiceRequest {
        try await call(
            .GET, ConnectorPath.serviceRequests + "/" + Self.escaped(number), json: Optional<String>.none,
            as: ServiceRequest.self)
    }

    /// Sends the desk's reply to the case's thread; answers with the thread entry the Connector stored.
    func reply(_ number: String, _ body: ServiceRequestReply) async throws -> ServiceRequest.Update {
        try await call(
            .POST, ConnectorPath.serviceRequests + "/" + Self.escaped(number) + "/replies", json: body,
            as: ServiceRequest.Update.self)
    }

    func administratorCheck(_ email: String) async throws -> AdministratorCheckResult {
        try await call(
            .POST, ConnectorPath.administratorCheck, json: AdministratorCheckRequest(email: email),
            as: AdministratorCheckResult.self)
    }

    static func escaped(_ segment: String) -> String {
        segment.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? segment
    }

    /// The tenant's service health issues, newest change first (Graph's `serviceHealthIssue`), following
    /// `@odata.nextLink` up to `pages` pages.
    func healthIssues(pages: Int = 5) async throws -> [ServiceHealthIssue] {
        var issues: [ServiceHealthIssue] = []
        var path = ConnectorPath.issues + "?$top=100"
        for _ in 0..<max(1, min(pages, 20)) {
            let page = try await call(
                .GET, path, json: Optional<String>.none, as: GraphCollection<ServiceHealthIssue>.self)
            issues += page.value
            guard let next = page.nextLink, let url = URL(string: next),
                let query = url.query(percentEncoded: true)
            else { break }
            path = ConnectorPath.issues + "?" + query
        }
        return issues.sorted { ($0.lastModifiedDateTime ?? .distantPast) > ($1.lastModifiedDateTime ?? .distantPast) }
    }

    func healthIssue(id: String) async throws -> ServiceHealthIssue {
        let escaped = id.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? id
        return try await call(
            .GET, ConnectorPath.issues + "/" + escaped, json: Optional<String>.none, as: ServiceHealthIssue.self)
    }

    /// Whether the Connector answers at all (its `/healthz`), for the wizard's outbound step.
    func ping() async throws {
        var request = HTTPClientRequest(url: baseURL + "/" + ConnectorPath.health)
        request.method = .GET
        let exchange: OutboundExchange
        do {
            exchange = try await services.send(request)
        } catch let failure as OutboundFailure {
            throw AppFailure(
                kind: .unreachable,
                message:
                    "The Microsoft 365 support connector at \(failure.host) could not be reached (\(failure.reason)).",
                detail: failure.description, outboundLogId: failure.logId)
        }
        guard exchange.status == .ok else {
            throw AppFailure(
                kind: .unexpected,
                message: "\(baseURL) answered \(exchange.status.code) to its health check: it does not look like a "
                    + "Microsoft 365 support connector.",
                detail: "GET /healthz answered \(exchange.status.code)", outboundLogId: exchange.logId)
        }
    }

    private func call<Body: Encodable, Answer: Decodable>(
        _ method: HTTPMethod, _ path: String, json body: Body?, as: Answer.Type
    ) async throws -> Answer {
        var retried = false
        while true {
            let token = try await accessToken(forceRefresh: retried)
            var request = HTTPClientRequest(url: baseURL + "/" + path)
            request.method = method
            request.headers.add(name: "Authorization", value: "Bearer \(token)")
            request.headers.add(name: "Accept", value: "application/json")
            request.headers.add(name: "client-request-id", value: services.correlationId)
            var buffer: ByteBuffer?
            if let body {
                request.headers.add(name: "Content-Type", value: "application/json")
                buffer = ByteBuffer(data: try JSONEncoder().encode(body))
            }
            let exchange: OutboundExchange
            do {
                exchange = try await services.send(request, body: buffer, secrets: [token])
            } catch let failure as OutboundFailure {
                throw AppFailure(
                    kind: .unreachable,
                    message: "The Microsoft 365 support connector at \(failure.host) could not be reached "
                        + "(\(failure.reason)). Try again later; if it persists, contact your administrator.",
                    detail: failure.description, outboundLogId: failure.logId)
            }
            let data = Data(exchange.body.readableBytesView)
            if exchange.status == .ok || exchange.status == .created {
                do {
                    return try Self.decoder.decode(Answer.self, from: data)
                } catch {
                    throw AppFailure(
                        kind: .unexpected, message: AppFailure.supportMessage,
                        detail: "\(method) \(host)/\(path.split(separator: "?").first ?? "") answered "
                            + "\(exchange.status.code) with a body the app cannot read: \(error)",
                        outboundLogId: exchange.logId)
                }
            }
            let problem = try? JSONDecoder().decode(ConnectorProblem.self, from: data)
            let code = problem?.code.flatMap(ConnectorErrorCode.init(rawValue:))
            // A token the Connector no longer accepts (keys rotated, revoked): one fresh token, then give up.
            if exchange.status == .unauthorized, code == .invalidToken || code == nil, !retried {
                try? await services.forgetToken(profileId: profileId)
                retried = true
                continue
            }
            let said =
                "\(method) \(host)/\(path.split(separator: "?").first ?? "") answered \(exchange.status.code)"
                + (code.map { " \($0.rawValue)" } ?? "") + (problem?.detail.map { ": \($0)" } ?? "")
            switch code {
            case .tenantNotRegistered?, .profileNotConfigured?, .appIdNotRegistered?:
                throw AppFailure(
                    kind: .finalStepMissing, message: AppFailure.finalStepMessage, detail: said,
                    outboundLogId: exchange.logId)
            case .contactNotAdministrator?, .notAnAdministrator?:
                throw AppFailure(
                    kind: .contactNotAdministrator, message: AppFailure.supportMessage, detail: said,
                    outboundLogId: exchange.logId)
            case .serviceRequestClosed?:
                throw AppFailure(
                    kind: .caseClosed, message: "The Microsoft support case is closed: it takes no more replies.",
                    detail: said, outboundLogId: exchange.logId)
            default:
                throw AppFailure(
                    kind: .unexpected, message: AppFailure.supportMessage, detail: said, outboundLogId: exchange.logId)
            }
        }
    }

    private func accessToken(forceRefresh: Bool) async throws -> String {
        do {
            return try await services.outboundToken(profileId: profileId, forceRefresh: forceRefresh).accessToken
        } catch let failure as OutboundOAuth.Failure {
            switch failure.code {
            case .unreachable:
                throw AppFailure(
                    kind: .unreachable,
                    message: "\(failure.message). Try again later; if it persists, contact your administrator.",
                    detail: failure.message, outboundLogId: failure.logId)
            case .notAllowed:
                throw AppFailure(
                    kind: .crossScopeRefused, message: AppFailure.setupMessage, detail: failure.message,
                    outboundLogId: nil)
            case .notConfigured:
                throw AppFailure(
                    kind: .setupIncomplete, message: AppFailure.setupMessage, detail: failure.message,
                    outboundLogId: nil)
            case .refused:
                throw AppFailure(
                    kind: .unexpected, message: AppFailure.supportMessage, detail: failure.message,
                    outboundLogId: failure.logId)
            }
        }
    }
}

extension ISO8601DateFormatter {
    // Made once: a formatter is costly to create, and the Connector's answers carry a date per issue.
    nonisolated(unsafe) static let plain = ISO8601DateFormatter()
    nonisolated(unsafe) static let withFractions: ISO8601DateFormatter = {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return formatter
    }()
}

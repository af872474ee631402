import AsyncHTTPClient
import Foundation
import NIOCore
import ServerSupport
import Synchronization
import Vapor

/// The tokens the Connector calls desks with, per repository. **basic**: the password grant at the desk's
/// `/oauth_token.do` with the repository's client ID and secret and its REST user's name and password; the refresh
/// token is used until its configured expiration, then a new password grant. **aad**: a client-credentials token
/// from the authority, requested with the REST user app's credentials for the REST API app as resource. Access
/// tokens are kept until shortly before they expire and dropped when the desk refuses one.
final class RepositoryTokens: Sendable {
    private struct Entry: Sendable {
        var access: String
        var accessUntil: Date
        var refresh: String?
        var refreshUntil: Date?
        /// The credentials these tokens came from: a changed secret or user starts over.
        var fingerprint: String
    }

    /// Why no token came: `retryable` when asking again later may work (the desk or authority did not answer).
    struct Failure: Error, CustomStringConvertible {
        let description: String
        let retryable: Bool
    }

    private let entries = Mutex<[String: Entry]>([:])

    static func key(tenant: String, repository: String) -> String { tenant + "|" + repository }

    func drop(tenant: String, repository: String) {
        entries.withLock { $0[Self.key(tenant: tenant, repository: repository)]?.accessUntil = .distantPast }
    }

    func token(
        for credentials: ProfileStore.RepositoryCredentials, tenant: String, config: ConnectorConfig,
        http: any OutboundHTTPClient, logger: Logger, correlationId: String
    ) async throws -> String {
        let repository = credentials.repository
        let key = Self.key(tenant: tenant, repository: repository.repositoryId)
        let fingerprint = [
            repository.authenticationType, repository.endpoint, repository.clientId ?? "",
            repository.restUserName ?? "",
            repository.clientSecret.changedAt.map { "\($0.timeIntervalSince1970)" } ?? "",
            repository.restUserPassword.changedAt.map { "\($0.timeIntervalSince1970)" } ?? "",
        ].joined(separator: "|")
        let now = config.now()
        let cached = entries.withLock { $0[key] }.flatMap { $0.fingerprint == fingerprint ? $0 : nil }
        if let cached, cached.accessUntil > now { return cached.access }
        let aad = repository.authenticationType == "aad"
        // aad needs no client secret: the REST user app's own credentials ask for the token.
        guard let clientId = repository.clientId, let secret = credentials.clientSecret ?? (aad ? "" : nil),
            let user = repository.restUserName, let password = credentials.restUserPassword
        else {
            throw Failure(
                description: "Repository \(repository.repositoryId) lacks its client ID, "
                    + (aad ? "" : "client secret, ") + "REST user name or password in the organization profile.",
                retryable: false)
        }
        var fields: [(String, String)]
        let url: String
        if aad {
            url = "\(config.authority)/\(tenant)/oauth2/token"
            fields = [
                ("grant_type", "client_credentials"), ("client_id", user), ("client_secret", password),
                ("resource", clientId),
            ]
        } else {
            url = repository.endpoint + "/oauth_token.do"
            if let refresh = cached?.refresh, let until = cached?.refreshUntil, until > now {
                fields = [
                    ("grant_type", "refresh_token"), ("client_id", clientId), ("client_secret", secret),
                    ("refresh_token", refresh),
                ]
                do {
                    return try await ask(
                        url, fields, secrets: [secret, refresh], key: key, fingerprint: fingerprint,
                        refreshLifetime: TimeInterval(repository.refreshTokenExpiration), keepRefresh: cached,
                        config: config, http: http, logger: logger, correlationId: correlationId)
                } catch let failure as Failure where !failure.retryable {
                    logger.info(
                        "Refresh token refused; asking with the password grant",
                        metadata: ["repository": "\(repository.repositoryId)", "reason": "\(failure)"])
                }
            }
            fields = [
                ("grant_type", "password"), ("client_id", clientId), ("client_secret", secret), ("username", user),
                ("password", password),
            ]
        }
        return try await ask(
            url, fields, secrets: [secret, password], key: key, fingerprint: fingerprint,
            refreshLifetime: TimeInterval(repository.refreshTokenExpiration), keepRefresh: nil, config: config,
            http: http, logger: logger, correlationId: correlationId)
    }

    private func ask(
        _ url: String, _ fields: [(String, String)], secrets: [String], key: String, fingerprint: String,
        refreshLifetime: TimeInterval, keepRefresh: Entry?, config: ConnectorConfig, http: any OutboundHTTPClient,
        logger: Logger, correlationId: String
    ) async throws -> String {
        var request = HTTPClientRequest(url: url)
        request.method = .POST
        request.headers.add(name: "Content-Type", value: "application/x-www-form-urlencoded")
        request.headers.add(name: "Accept", value: "application/json")
        let exchange: OutboundExchange
        do {
            exchange = try await http.send(
                request, body: ByteBuffer(string: FormBody.encode(fields)), source: "delivery-token",
                correlationId: correlationId, secrets: secrets, log: ProcessOutboundLog(), logger: logger)
        } catch let failure as OutboundFailure {
            throw Failure(description: "The token endpoint could not be reached: \(failure)", retryable: true)
        }
        let object = try? JSONSerialization.jsonObject(with: Data(exchange.body.readableBytesView)) as? [String: Any]
        guard exchange.status == .ok, let access = object?["access_token"] as? String, !access.isEmpty else {
            let said = [object?["error"] as? String, object?["error_description"] as? String].compactMap { $0 }
                .joined(separator: ": ")
            let host = URL(string: url)?.host ?? url
            throw Failure(
                description: "The token endpoint \(host)\(URL(string: url)?.path ?? "") answered "
                    + "\(exchange.status.code)"
                    + (said.isEmpty ? "" : " (\(Redaction.text(String(said.prefix(300)), secrets: secrets)))"),
                retryable: exchange.status.code >= 500 || exchange.status == .tooManyRequests)
        }
        let now = config.now()
        let lifetime =
            (object?["expires_in"] as? NSNumber)?.doubleValue ?? (object?["expires_in"] as? String).flatMap(Double.init)
            ?? 1800
        let refresh = object?["refresh_token"] as? String
        // A refresh grant may hand back the same refresh token: it keeps the life it had.
        let newRefresh = refresh != nil && refresh != keepRefresh?.refresh
        let entry = Entry(
            access: access, accessUntil: now.addingTimeInterval(max(0, lifetime - 60)),
            refresh: refresh ?? keepRefresh?.refresh,
            refreshUntil: newRefresh ? now.addingTimeInterval(refreshLifetime) : keepRefresh?.refreshUntil,
            fingerprint: fingerprint)
        entries.withLock { $0[key] = entry }
        return access
    }
}

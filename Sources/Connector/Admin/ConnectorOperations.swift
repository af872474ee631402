import Foundation
import SolutionSearch
import Vapor
import WireModels

/// The operator's operations on a configured Connector app, for the CLI (the admin API calls the same stores).
/// Tenants are named by ID or domain.
package struct ConnectorOperations: Sendable {
    package let app: Application

    package init(app: Application) {
        self.app = app
    }

    private func tenantId(_ key: String) async throws -> String {
        try await app.tenants(app.db).require(key).tenantId
    }

    package func registerTenant(_ tenant: ConnectorTenant) async throws -> ConnectorTenant {
        try await app.tenants(app.db).register(
            tenantId: tenant.tenantId, displayName: tenant.displayName, domains: tenant.domains,
            resourceAppId: tenant.resourceAppId
        ).wire
    }

    /// Whether the Connector holds its own app credentials for reading `tenant`'s directory.
    package func hasDirectoryCredentials(tenant: String) async throws -> Bool {
        try await app.tenants(app.db).directoryCredentials(tenantId(tenant)) != nil
    }

    /// Keeps the Connector's own app credentials in `tenant` (the secret sealed), with which it reads the
    /// directory to check that a case's contact is an administrator.
    package func setDirectoryCredentials(tenant: String, clientId: String, secret: String) async throws {
        try await app.tenants(app.db).setDirectoryCredentials(
            tenantId(tenant), clientId: clientId, sealedSecret: try app.connector.config.masterKey.seal(secret))
    }

    /// A delivery of a case event to a desk, as the operator lists them.
    package struct DeliveryRow: Encodable, Sendable {
        package let eventId: String
        package let tenantId: String
        package let repositoryId: String
        package let serviceRequest: String
        package let sequence: Int
        package let state: String
        package let attempts: Int
        package let lastError: String?
        package let nextAttemptAt: Date?
        package let sentAt: Date?
    }

    /// Deliveries newest first; `state` pending, sent or parked.
    package func deliveries(state: String?, tenant: String?) async throws -> [DeliveryRow] {
        let parsed = try state.map { value in
            guard let known = OutboxStore.State(rawValue: value) else {
                throw ConnectorError.invalid("state is pending, sent or parked.")
            }
            return known
        }
        return try await OutboxStore(sql: app.db.asSQL(), now: app.connector.config.now)
            .list(state: parsed, tenant: try await tenant.asyncMap { try await tenantId($0) }, limit: 1000)
            .map {
                DeliveryRow(
                    eventId: $0.eventId, tenantId: $0.tenantId, repositoryId: $0.repositoryId,
                    serviceRequest: $0.serviceRequest, sequence: $0.sequence, state: $0.state, attempts: $0.attempts,
                    lastError: $0.lastError, nextAttemptAt: $0.nextAttemptAt, sentAt: $0.sentAt)
            }
    }

    /// Sends a parked or waiting delivery again now.
    package func replayDelivery(_ eventId: String) async throws {
        guard try await OutboxStore(sql: app.db.asSQL(), now: app.connector.config.now).replay(eventId.lowercased())
        else { throw ConnectorError.notFound("There is no unsent event \(eventId.prefix(40)).") }
    }

    package func tenants() async throws -> [ConnectorTenant] {
        try await app.tenants(app.db).list().map(\.wire)
    }

    package func profile(tenant: String) async throws -> OrganizationProfile {
        try await app.profiles(app.db).profile(tenant: tenantId(tenant))
    }

    package func updateProfile(tenant: String, _ input: OrganizationProfileUpdate) async throws -> OrganizationProfile {
        try await app.profiles(app.db).update(tenant: tenantId(tenant), input, by: "operator")
    }

    package func setGraphSync(tenant: String, _ input: GraphSyncInput) async throws -> OrganizationProfile {
        try await app.profiles(app.db).setGraphSync(tenant: tenantId(tenant), input, by: "operator")
    }

    /// Adds the repository, or changes it when the profile has it already.
    package func saveRepository(tenant: String, _ input: RepositoryInput) async throws -> OrganizationProfile.Repository
    {
        let id = try await tenantId(tenant)
        let store = try app.profiles(app.db)
        let exists = try await store.profile(tenant: id).repositories.contains { $0.repositoryId == input.repositoryId }
        return try await store.saveRepository(tenant: id, input, create: !exists, by: "operator")
    }

    package func removeRepository(tenant: String, id repository: String) async throws -> OrganizationProfile {
        let id = try await tenantId(tenant)
        try await app.profiles(app.db).deleteRepository(tenant: id, id: repository)
        return try await app.profiles(app.db).profile(tenant: id)
    }

    private var publisher: HealthPublisher { HealthPublisher(database: app.db, now: app.connector.config.now) }

    package func importHealth(tenant: String, document: Data) async throws -> HealthPublisher.ImportSummary {
        try await publisher.importDocument(document, tenant: tenantId(tenant))
    }

    package func publish(tenant: String, _ input: HealthPublisher.Publication) async throws -> ServiceHealthIssue {
        try await publisher.publish(input, tenant: tenantId(tenant))
    }

    package func post(tenant: String, issue: String, _ update: HealthPublisher.Update) async throws
        -> ServiceHealthIssue
    {
        try await publisher.post(update, issueId: issue, tenant: tenantId(tenant))
    }

    package func resolve(tenant: String, issue: String, message: String?, status: String?) async throws
        -> ServiceHealthIssue
    {
        try await publisher.resolve(issueId: issue, tenant: tenantId(tenant), message: message, status: status)
    }

    package var knowledgeBase: KnowledgeBase {
        app.knowledgeBase(app.db)
    }

    /// Brings this process's search index up to the knowledge base (as a running Connector does every few
    /// seconds); returns how many articles it holds.
    package func refreshIndex() async throws -> Int {
        try await app.connector.solutions.refresh(from: knowledgeBase, logger: app.logger)
        return app.connector.solutions.index.count
    }

    /// How many times this instance learned a query encoder.
    package var searchQueryEncoderLearnings: Int { app.connector.solutions.queryEncoderLearnings }

    /// Whether searches weigh meaning now (the sentence encoder configured and every article's vector at hand).
    package var searchIsSemantic: Bool { app.connector.solutions.index.isSemantic }
    /// What reads a search's text in the index searches use now.
    package var searchQueryEncoder: SolutionIndex.QueryEncoding { app.connector.solutions.index.queryEncoder }

    /// Whether articles' vectors are being encoded in the background (searches turn semantic after it).
    package var searchIsEncoding: Bool { app.connector.solutions.isEncoding }
}

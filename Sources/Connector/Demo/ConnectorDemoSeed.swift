import Fluent
import Foundation
import Vapor
import WireModels

/// The demo tenant's service health, written by the team in Graph's shape (`Resources/demo-health.json`): active
/// and resolved incidents and advisories on several services, with their post histories. Its times are moved so
/// that the newest change is an hour old, whenever the demo starts for the first time.
package struct ConnectorDemoSeed: Sendable {
    let app: Application

    package init(app: Application) {
        self.app = app
    }

    /// Registers the tenant and imports the demo health once; returns nil when the tenant already has health data.
    package func seedIfNeeded(tenant: ConnectorTenant) async throws -> HealthPublisher.ImportSummary? {
        let tenants = try app.tenants(app.db)
        try await tenants.register(
            tenantId: tenant.tenantId, displayName: tenant.displayName, domains: tenant.domains,
            resourceAppId: tenant.resourceAppId)
        let store = try app.health(app.db)
        guard try await store.services(tenant: tenant.tenantId).isEmpty else { return nil }
        let document = try Self.document(now: app.connector.config.now())
        return try await HealthPublisher(database: app.db, now: app.connector.config.now)
            .importDocument(document, tenant: tenant.tenantId)
    }

    /// The bundled document with every time moved by the same amount.
    static func document(now: Date) throws -> Data {
        guard let url = Bundle.module.url(forResource: "demo-health", withExtension: "json") else {
            throw Abort(.internalServerError, reason: "The demo health document is missing from the build.")
        }
        var services = try GraphDate.decoder.decode(
            GraphCollection<ServiceHealthOverview>.self, from: Data(contentsOf: url)
        ).value
        let newest = services.flatMap { $0.issues ?? [] }.compactMap(\.lastModifiedDateTime).max() ?? now
        let shift = now.addingTimeInterval(-3600).timeIntervalSince(newest)
        func moved(_ date: Date?) -> Date? { date?.addingTimeInterval(shift) }
        for index in services.indices {
            services[index].issues = services[index].issues?.map { issue in
                var issue = issue
                issue.startDateTime = moved(issue.startDateTime)
                issue.endDateTime = moved(issue.endDateTime)
                issue.lastModifiedDateTime = moved(issue.lastModifiedDateTime)
                issue.posts = issue.posts?.map { post in
                    var post = post
                    post.createdDateTime = post.createdDateTime.addingTimeInterval(shift)
                    return post
                }
                return issue
            }
        }
        return try GraphDate.encoder.encode(GraphCollection(value: services))
    }
}

import Foundation
import NIOHTTP1
import SQLKit
import ServerSupport
import TestSupport
import Testing
import Vapor
import VaporTesting
import WireModels

@testable import Connector

/// The live Graph sync against a scripted Graph: paging, incremental reads, 429 and Retry-After, 5xx back-off,
/// enumeration values newer than this code, and a restart part-way through.
@Suite struct GraphHealthSyncTests {
    static let graph = "https://graph.test"
    static let tokenURL = "https://login.test/{tenant}/oauth2/v2.0/token"
    static let issuesURL = graph + "/v1.0/admin/serviceAnnouncement/issues"
    static let overviewsURL = graph + "/v1.0/admin/serviceAnnouncement/healthOverviews"
    static let clientId = "5a0bb2f6-0d8e-4a41-9b39-7b4d0c1d2e3f"
    static let secret = "graph-client-secret-value"

    static func configure(_ config: inout ConnectorConfig) {
        config.graphBaseURL = graph
        config.graphTokenURL = tokenURL
        config.graphSyncInterval = 300
    }

    static func issue(_ id: String, service: String, modified: String, status: String = "Investigating") -> String {
        """
        {"id":"\(id)","title":"Issue \(id)","service":"\(service)","feature":"F","featureGroup":"G",
         "impactDescription":"Users may see errors.","classification":"Incident","origin":"Microsoft",
         "status":"\(status)","isResolved":false,"startDateTime":"2026-11-30T08:00:00Z","endDateTime":null,
         "lastModifiedDateTime":"\(modified)","details":[],"highImpact":null,"posts":[]}
        """
    }

    /// A scripted Graph for the fixture's tenant: token, overviews with a service no list in this code names.
    func graph(for fx: ConnectorFixture) -> RecordingHTTPClient {
        let http = RecordingHTTPClient()
        http.expect(
            .POST, Self.tokenURL.replacingOccurrences(of: "{tenant}", with: fx.tenantId),
            body: #"{"token_type":"Bearer","expires_in":3599,"access_token":"graph-access-token"}"#)
        http.expect(
            .GET, Self.overviewsURL,
            body:
                #"{"value":[{"id":"Exchange","service":"Exchange Online","status":"ServiceDegradation"},{"id":"VivaEngage","service":"Viva Engage","status":"serviceOperational"}]}"#
        )
        return http
    }

    func sync(_ fx: ConnectorFixture, _ http: RecordingHTTPClient, force: Bool = false) async -> GraphHealthSync.Outcome
    {
        await GraphHealthSync(
            database: fx.connector.db, http: http, config: fx.connector.connector.config, logger: fx.connector.logger
        ).sync(tenant: fx.tenantId, clientId: Self.clientId, secret: Self.secret, force: force)
    }

    func issueIds(_ fx: ConnectorFixture) async throws -> Set<String> {
        Set(try await fx.connector.health(fx.connector.db).issues(tenant: fx.tenantId).map(\.id))
    }

    @Test func followsPagesThenReadsOnlyWhatChanged() async throws {
        try await withConnector(configure: Self.configure) { fx in
            let http = graph(for: fx)
            let page2 = Self.issuesURL + "?$skiptoken=abc"
            http.expect(
                .GET, Self.issuesURL,
                body:
                    #"{"@odata.nextLink":"\#(page2)","value":[\#(Self.issue("EX1", service: "Exchange Online", modified: "2026-11-30T09:00:00Z"))]}"#
            )
            http.expect(
                .GET, page2,
                body:
                    #"{"value":[\#(Self.issue("VE2", service: "Viva Engage", modified: "2026-11-30T10:15:00.5Z", status: "SomethingNewer"))]}"#
            )
            #expect(await sync(fx, http) == .synced(issues: 2))
            #expect(http.unexpected.isEmpty, "\(http.unexpected)")
            #expect(try await issueIds(fx).isSuperset(of: ["EX1", "VE2"]))
            let saved = try #require(
                try await fx.connector.health(fx.connector.db).issue(tenant: fx.tenantId, id: "VE2"))
            #expect(saved.status == "SomethingNewer")
            #expect(saved.classification == "incident")
            let services = try await fx.connector.health(fx.connector.db).services(tenant: fx.tenantId)
            #expect(services.contains { $0.id == "VivaEngage" && $0.service == "Viva Engage" })

            // The token went only to Graph, and the secret never left in a URL.
            let calls = http.calls
            #expect(
                calls.filter { $0.url.hasPrefix(Self.graph) }.allSatisfy {
                    $0.headers.first(name: "Authorization") == "Bearer graph-access-token"
                })
            #expect(calls.allSatisfy { !$0.url.contains(Self.secret) })
            #expect(calls.first?.body.contains("scope=https%3A%2F%2Fgraph.microsoft.com%2F.default") == true)

            // The next sync asks only for what changed since the newest change it saw.
            let incremental =
                Self.issuesURL + "?$filter=lastModifiedDateTime%20ge%202026-11-30T10:15:00.500Z"
            http.expect(.GET, incremental, body: #"{"value":[]}"#)
            #expect(await sync(fx, http) == .synced(issues: 0))
            #expect(http.unexpected.isEmpty, "\(http.unexpected)")

            let profile = try await fx.connector.profiles(fx.connector.db).profile(tenant: fx.tenantId)
            #expect(profile.graphSync == nil)
            let state = try await fx.connector.db.asSQL().select().columns("*").from("connector_health_sync").first()
            #expect(try state?.decode(column: "last_synced_at", as: Double?.self) != nil)
            #expect(try state?.decode(column: "last_error", as: String?.self) == nil)
        }
    }

    @Test func waitsForRetryAfterWhenThrottled() async throws {
        try await withConnector(configure: Self.configure) { fx in
            let http = graph(for: fx)
            http.expectOnce(
                .GET, Self.issuesURL, status: .tooManyRequests, headers: ["Retry-After": "120"],
                body: #"{"error":{"code":"TooManyRequests","message":"Too many requests."}}"#)
            http.expect(
                .GET, Self.issuesURL,
                body:
                    #"{"value":[\#(Self.issue("EX7", service: "Exchange Online", modified: "2026-11-30T09:00:00Z"))]}"#)
            #expect(await sync(fx, http) == .throttled(retryAfter: 120))
            let before = http.calls.count
            fx.clock.advance(by: 60)
            #expect(await sync(fx, http) == .notDue)
            #expect(http.calls.count == before)
            fx.clock.advance(by: 61)
            #expect(await sync(fx, http) == .synced(issues: 1))
            #expect(
                GraphHealthSync.retryAfter(
                    "Wed, 21 Oct 2015 07:28:00 GMT", now: Date(timeIntervalSince1970: 1_445_412_420)) == 60)
            #expect(GraphHealthSync.retryAfter("99999999999999999999", now: Date()) == 60)
            #expect(GraphHealthSync.retryAfter("86400", now: Date()) == 3600)
        }
    }

    @Test func backsOffOnServerErrorsAndSaysWhy() async throws {
        try await withConnector(configure: Self.configure) { fx in
            let admin = try await fx.userToken("admin@contoso.onmicrosoft.com")
            let set = try await fx.send(
                .PUT, "/" + ConnectorPath.organizationProfile + "/graphSync", token: admin,
                json: #"{"clientId":"\#(Self.clientId)","clientSecret":"\#(Self.secret)"}"#)
            #expect(set.status == .ok)
            #expect(!set.body.string.contains(Self.secret))

            let http = graph(for: fx)
            http.expect(
                .GET, Self.issuesURL, status: .serviceUnavailable,
                body: #"{"error":{"code":"serviceNotAvailable","message":"The service is temporarily unavailable."}}"#)
            await GraphHealthSync(
                database: fx.connector.db, http: http, config: fx.connector.connector.config,
                logger: fx.connector.logger
            ).runDue()
            let profile = try await fx.get("/" + ConnectorPath.organizationProfile, token: admin)
            let sync = try #require(profile.jsonObject["graphSync"] as? [String: Any])
            let error = try #require(sync["lastError"] as? String)
            #expect(error.contains("503") && error.contains("serviceNotAvailable"))
            #expect(sync["lastSyncedAt"] == nil)
            #expect(sync["lastAttemptAt"] != nil)

            // Backing off: no call before the wait, then the wait doubles.
            fx.clock.advance(by: 200)
            #expect(await self.sync(fx, http) == .notDue)
            fx.clock.advance(by: 200)
            if case .failed = await self.sync(fx, http) {} else { Issue.record("expected a second failure") }
            fx.clock.advance(by: 400)
            #expect(await self.sync(fx, http) == .notDue)
        }
    }

    @Test func aRestartPartWayReadsTheRestAgain() async throws {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("connector-sync-\(UUID()).sqlite")
        defer { try? FileManager.default.removeItem(at: file) }
        try await withConnector(database: .sqliteFile(file), configure: Self.configure) { fx in
            let http = graph(for: fx)
            let page2 = Self.issuesURL + "?$skip=1"
            http.expect(
                .GET, Self.issuesURL,
                body:
                    #"{"@odata.nextLink":"\#(page2)","value":[\#(Self.issue("EX1", service: "Exchange Online", modified: "2026-11-30T09:00:00Z"))]}"#
            )
            http.expectOnce(.GET, page2, status: .badGateway, body: "<html>bad gateway</html>")
            http.expect(
                .GET, page2,
                body:
                    #"{"value":[\#(Self.issue("EX2", service: "Exchange Online", modified: "2026-11-30T11:00:00Z"))]}"#)
            if case .failed(let reason) = await sync(fx, http) {
                #expect(reason.contains("502"))
            } else {
                Issue.record("the interrupted sync should fail")
            }
            #expect(try await issueIds(fx).contains("EX1"))
            let cursor = try await fx.connector.db.asSQL().select().column("cursor").from("connector_health_sync")
                .first()
            #expect(try cursor?.decode(column: "cursor", as: Double?.self) == nil)

            // Another instance on the same database (a restart): it reads both pages again and completes.
            let restarted = try await Application.make(.testing)
            do {
                try await Connector.configure(restarted, config: fx.connector.connector.config)
                try await restarted.prepareConnector()
                let outcome = await GraphHealthSync(
                    database: restarted.db, http: http, config: restarted.connector.config, logger: restarted.logger
                ).sync(tenant: fx.tenantId, clientId: Self.clientId, secret: Self.secret, force: true)
                #expect(outcome == .synced(issues: 2))
                try await restarted.asyncShutdown()
            } catch {
                try? await restarted.asyncShutdown()
                throw error
            }
            #expect(try await issueIds(fx).isSuperset(of: ["EX1", "EX2"]))
        }
    }

    @Test func aNextLinkToAnotherHostEndsTheSync() async throws {
        try await withConnector(configure: Self.configure) { fx in
            let http = graph(for: fx)
            http.expect(
                .GET, Self.issuesURL,
                body: #"{"@odata.nextLink":"https://evil.test/v1.0/steal","value":[]}"#)
            if case .failed(let reason) = await sync(fx, http) {
                #expect(reason.contains("evil.test"))
            } else {
                Issue.record("a foreign next link must end the sync")
            }
            #expect(!http.unexpected.contains { $0.contains("evil.test") })
        }
    }
}

/// The sync against a real Graph-compatible server over HTTP: a second Connector reads the first one's service
/// health with a client-credentials token from Identity, as it would read Microsoft Graph.
@Suite struct GraphSyncInteropTests {
    @Test func aConnectorSyncsAnotherConnectorsHealthOverHTTP() async throws {
        let port = freeLoopbackPort()
        let source = "http://127.0.0.1:\(port)"
        try await withConnector(configure: {
            $0.endpoint = ServiceEndpoint(host: "127.0.0.1", port: port, usesTLS: false, publicURL: source)
        }) { fx in
            try await fx.connector.server.start(address: .hostname("127.0.0.1", port: port))
            let reader = try await Application.make(.testing)
            do {
                var config = fx.connector.connector.config
                config.database = .sqliteMemory
                config.graphBaseURL = source
                config.graphTokenURL = fx.identityURL + "/{tenant}/oauth2/v2.0/token"
                config.graphScope = ConnectorFixture.resource + "/.default"
                try await Connector.configure(reader, config: config)
                try await reader.prepareConnector()
                try await reader.tenants(reader.db).register(
                    tenantId: fx.tenantId, displayName: "Contoso", domains: ["contoso.onmicrosoft.com"],
                    resourceAppId: fx.resourceApp.appId)
                let sync = GraphHealthSync(
                    database: reader.db, http: reader.connector.http, config: config, logger: reader.logger)
                let outcome = await sync.sync(
                    tenant: fx.tenantId, clientId: fx.healthReader.appId, secret: try #require(fx.healthReader.secret))
                #expect(outcome == .synced(issues: 9))
                let copied = try await reader.health(reader.db).issues(tenant: fx.tenantId)
                let original = try await fx.connector.health(fx.connector.db).issues(tenant: fx.tenantId)
                #expect(copied.sorted { $0.id < $1.id } == original.sorted { $0.id < $1.id })
                #expect(try await reader.health(reader.db).services(tenant: fx.tenantId).count == 10)

                // Published on the source afterwards: the next sync brings only what changed.
                fx.clock.advance(by: 60)
                _ = try await fx.admin(
                    .POST, "/tenants/\(fx.tenantId)/health/issues/TM1051207/posts",
                    json: #"{"message":"Fixed for most users.","status":"serviceRestored"}"#)
                #expect(
                    await sync.sync(
                        tenant: fx.tenantId, clientId: fx.healthReader.appId, secret: fx.healthReader.secret!,
                        force: true) == .synced(issues: 1))
                let teams = try await reader.health(reader.db).issue(tenant: fx.tenantId, id: "TM1051207")
                #expect(teams?.isResolved == true && teams?.posts?.count == 3)
                try await reader.asyncShutdown()
            } catch {
                try? await reader.asyncShutdown()
                await fx.connector.server.shutdown()
                throw error
            }
            await fx.connector.server.shutdown()
        }
    }
}

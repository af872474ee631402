import AsyncHTTPClient
import Foundation
import NIOCore
import SQLKit
import ServerSupport
import TestSupport
import Testing
import Vapor
import VaporTesting
import WireModels

@testable import ServiceDesk

@Suite("Desk outbound calls: OAuth provider tokens, the outbound HTTP log and redaction")
struct OutboundCallTests {
    /// An outbound provider entity for the REST user app at Identity's v1 token endpoint; returns its profile.
    static func provider(
        _ desk: Application, identity: RunningIdentity, secret: String? = nil, tokenURL: String? = nil,
        clientId: String? = nil
    ) async throws -> String {
        let entity = try await DeskDirectory(app: desk).insert(
            DeskTables.oauthEntity,
            [
                "name": "Contoso outbound", "type": "oauth_provider", "client_id": clientId ?? identity.restUser.appId,
                "client_secret": secret ?? identity.restUser.secret!, "token_url": tokenURL ?? identity.v1TokenURL,
                "resource": identity.restAPI.appId,
            ])
        let sql = try #require(desk.db as? any SQLDatabase)
        return try #require(
            try await sql.select().column("sys_id").from(DeskTables.oauthEntityProfile.databaseTable)
                .where("oauth_entity", .equal, (entity["sys_id"] ?? nil) ?? "").first()?
                .decode(column: "sys_id", as: String.self))
    }

    static func oauth(_ desk: Application, correlationId: String = "test-correlation") throws -> OutboundOAuth {
        OutboundOAuth(
            sql: try #require(desk.db as? any SQLDatabase), http: desk.desk.http, masterKey: desk.desk.config.masterKey,
            now: desk.desk.config.now, logger: desk.logger, correlationId: correlationId)
    }

    @Test func aRecordingFakeAnswersExpectedCallsLogsThemRedactedAndRefusesOthers() async throws {
        try await withDesk { desk, _ in
            let fake = RecordingHTTPClient()
            desk.desk = DeskContext(
                config: desk.desk.config, authenticator: desk.desk.authenticator, http: fake,
                oidcCache: desk.desk.oidcCache, jobs: desk.desk.jobs)
            let secret = "Fake-" + RandomToken.urlSafe(byteCount: 18)
            let entity = try await DeskDirectory(app: desk).insert(
                DeskTables.oauthEntity,
                [
                    "name": "Faked provider", "type": "oauth_provider", "client_id": "app-1", "client_secret": secret,
                    "token_url": "https://login.test/t/oauth2/token", "resource": "api://x",
                ])
            let sql = try #require(desk.db as? any SQLDatabase)
            let profile = try #require(
                try await sql.select().column("sys_id").from(DeskTables.oauthEntityProfile.databaseTable)
                    .where("oauth_entity", .equal, (entity["sys_id"] ?? nil) ?? "").first()?
                    .decode(column: "sys_id", as: String.self))

            let unexpected = await #expect(throws: OutboundOAuth.Failure.self) {
                try await Self.oauth(desk).token(profileId: profile)
            }
            #expect(unexpected?.code == .unreachable)
            #expect(unexpected?.message.contains("unexpected call in a test") == true)
            #expect(fake.unexpected == ["POST https://login.test/t/oauth2/token"])

            fake.expect(
                .POST, "https://login.test/t/oauth2/token", body: #"{"access_token":"tok","expires_in":"3599"}"#)
            let token = try await Self.oauth(desk).token(profileId: profile)
            #expect(token.accessToken == "tok")

            // The app's scope reads the registry through its cross-scope privileges; revoked, it is told why.
            var scoped = try Self.oauth(desk)
            scoped.callerScope = M365SupportScope.name
            #expect(try await scoped.token(profileId: profile).accessToken == "tok")
            try await sql.update(DeskTables.scopePrivilege.databaseTable).set("status", to: "requested")
                .where("target_name", .equal, "oauth_entity").run()
            let notAllowed = await #expect(throws: OutboundOAuth.Failure.self) {
                try await scoped.token(profileId: profile)
            }
            #expect(notAllowed?.code == .notAllowed)
            #expect(
                notAllowed?.message
                    == "Read operation against 'oauth_entity' from scope 'x_mioms_m365_assis' has been refused due to "
                    + "the table's cross-scope access policy")
            fake.expect(
                .POST, "https://login.test/t/oauth2/token", status: .unauthorized,
                body: #"{"error":"invalid_client","error_description":"AADSTS7000215: Invalid client secret"}"#)
            let refused = await #expect(throws: OutboundOAuth.Failure.self) {
                try await Self.oauth(desk).token(profileId: profile, forceRefresh: true)
            }
            #expect(refused?.code == .refused)
            #expect(refused?.message.contains("AADSTS7000215") == true)
            #expect(fake.calls.count == 2)
            #expect(fake.calls.first?.body.contains("client_secret=") == true)
            let log = try await desk.table(.GET, "sys_outbound_http_log", as: "admin.user")
            #expect(log.results.count == 3)
            #expect(!log.body.string.contains(secret))
        }
    }

    @Test func tokensAreFetchedOnceCachedSealedAndRenewedBeforeExpiry() async throws {
        let clock = TestClock(Date())
        try await withRunningIdentity(clock: clock) { identity in
            try await withDesk(clock: clock) { desk, _ in
                let profile = try await Self.provider(desk, identity: identity)
                let first = try await Self.oauth(desk).token(profileId: profile)
                #expect(first.fresh)
                let claims = try OIDCVerificationTests.segment(String(first.accessToken.split(separator: ".")[1]))
                #expect(claims["aud"] as? String == identity.restAPI.appId)
                #expect(claims["appid"] as? String == identity.restUser.appId)
                let second = try await Self.oauth(desk).token(profileId: profile)
                #expect(!second.fresh)
                #expect(second.accessToken == first.accessToken)

                let sql = try #require(desk.db as? any SQLDatabase)
                let sealed = try #require(
                    try await sql.select().column("sealed_token").from(OutboundTokenCache.schema).first()?
                        .decode(column: "sealed_token", as: String.self))
                #expect(!sealed.contains(first.accessToken))

                clock.advance(by: first.expiresAt.timeIntervalSince(clock.now) - OutboundOAuth.renewBefore + 1)
                #expect(try await Self.oauth(desk).token(profileId: profile).fresh)

                let calls = try await desk.table(.GET, "sys_outbound_http_log", as: "admin.user").results
                #expect(calls.count == 2)
                #expect(calls.allSatisfy { $0["http_method"] as? String == "POST" })
                #expect(calls.allSatisfy { $0["path"] as? String == "/\(identity.tenantId)/oauth2/token" })
                #expect(calls.allSatisfy { $0["correlation_id"] as? String == "test-correlation" })
                #expect(calls.allSatisfy { Int($0["request_size"] as? String ?? "") ?? 0 > 0 })
            }
        }
    }

    @Test func failuresNameTheHostAndNeverTheSecret() async throws {
        let clock = TestClock(Date())
        try await withRunningIdentity(clock: clock) { identity in
            try await withDesk(clock: clock) { desk, _ in
                let wrongSecret = "Wr0ng-" + RandomToken.urlSafe(byteCount: 18)
                let profile = try await Self.provider(desk, identity: identity, secret: wrongSecret)
                await #expect {
                    try await Self.oauth(desk).token(profileId: profile)
                } throws: { error in
                    let text = "\(error)"
                    return text.contains("The token endpoint 127.0.0.1 answered 401") && text.contains("invalid_client")
                        && !text.contains(wrongSecret)
                }
                let deadPort = freeLoopbackPort()
                let unreachable = try await Self.provider(
                    desk, identity: identity, secret: wrongSecret,
                    tokenURL: "http://127.0.0.1:\(deadPort)/t/oauth2/token",
                    clientId: "unreachable-client")
                await #expect {
                    try await Self.oauth(desk).token(profileId: unreachable)
                } throws: { error in
                    "\(error)".contains("Could not reach 127.0.0.1") && (error as? OutboundOAuth.Failure)?.logId != nil
                }
                let log = try await desk.table(.GET, "sys_outbound_http_log", as: "admin.user")
                #expect(log.results.count == 2)
                #expect(log.results.contains { ($0["error_message"] as? String)?.isEmpty == false })
                #expect(!log.body.string.contains(wrongSecret))
                #expect(!TestLogging.capture.text.contains(wrongSecret))

                // The client's own failure carries a stable code beside its words.
                let refused = await #expect(throws: OutboundFailure.self) {
                    try await desk.desk.http.send(
                        HTTPClientRequest(url: "http://127.0.0.1:\(deadPort)/"), source: "test", correlationId: nil,
                        secrets: [], sql: try #require(desk.db as? any SQLDatabase), now: clock.provider,
                        logger: desk.logger)
                }
                #expect(refused?.code == .connectionRefused)
            }
        }
    }

    @Test func theOutboundLogRedactsCredentialsInHeadersQueriesAndErrors() async throws {
        let clock = TestClock(Date())
        try await withRunningIdentity(clock: clock) { identity in
            try await withDesk(clock: clock) { desk, _ in
                let secret = "S3cret-" + RandomToken.urlSafe(byteCount: 18)
                let bearer = "eyJ" + RandomToken.urlSafe(byteCount: 30)
                var request = HTTPClientRequest(
                    url: "\(identity.baseURL)/healthz?client_secret=\(secret)&access_token=\(bearer)&api-version=1")
                request.headers.add(name: "Authorization", value: "Bearer \(bearer)")
                request.headers.add(name: "X-Api-Key", value: secret)
                let exchange = try await desk.desk.http.send(
                    request, source: "test", correlationId: "redaction-check", secrets: [secret, bearer],
                    sql: try #require(desk.db as? any SQLDatabase), now: clock.provider, logger: desk.logger)
                #expect(exchange.status == .ok)
                let row = try #require(
                    try await desk.table(.GET, "sys_outbound_http_log/\(exchange.logId)", as: "admin.user").result
                        as [String: Any]?)
                let text = String(describing: row)
                #expect(!text.contains(secret))
                #expect(!text.contains(bearer))
                #expect((row["request_headers"] as? String)?.contains("Authorization: [redacted]") == true)
                #expect((row["url"] as? String)?.contains("api-version=1") == true)
                #expect(row["path"] as? String == "/healthz")
                #expect(!TestLogging.capture.text.contains(secret))

                let admin = WebBrowser(desk)
                try await admin.signIn("admin.user")
                let page = try await admin.get("/sys_outbound_http_log_list.do?sysparm_host=127.0.0.1")
                #expect(page.html.contains("/healthz"))
                #expect(!page.html.contains(secret) && !page.html.contains(bearer))
                let entry = try await admin.get("/sys_outbound_http_log.do?sys_id=\(exchange.logId)")
                #expect(entry.status == .ok)
                #expect(entry.html.contains("Authorization: [redacted]"))
                #expect(entry.html.contains("api-version=1"))
                #expect(!entry.html.contains(secret) && !entry.html.contains(bearer))
                #expect(try await admin.get("/sys_outbound_http_log.do?sys_id=nope").status == .notFound)
            }
        }
    }

    @Test func getOAuthTokenOnTheRegistryPageShowsTheOutcome() async throws {
        let clock = TestClock(Date())
        try await withRunningIdentity(clock: clock) { identity in
            try await withDesk(clock: clock) { desk, _ in
                _ = try await Self.provider(desk, identity: identity)
                let entity = try #require(
                    try await desk.table(.GET, "oauth_entity?sysparm_query=type=oauth_provider", as: "admin.user")
                        .results.first?["sys_id"] as? String)
                let admin = WebBrowser(desk)
                try await admin.signIn("admin.user")
                let page = "/oauth_entity.do?sys_id=\(entity)"
                let good = try await admin.submit(
                    page, to: "/oauth_entity.do", [("sys_id", entity), ("sysparm_action", "get_token")])
                #expect(good.status == .ok)
                #expect(good.html.contains("Token received; it expires at"))
                #expect(!good.html.contains("eyJ"))

                _ = try await desk.table(
                    .PATCH, "oauth_entity/\(entity)", as: "admin.user", json: ["client_secret": "not-it-at-all"])
                let bad = try await admin.submit(
                    page, to: "/oauth_entity.do", [("sys_id", entity), ("sysparm_action", "get_token")])
                #expect(bad.status == .badGateway)
                #expect(bad.html.contains("The token endpoint 127.0.0.1 answered 401"))
                #expect(!bad.html.contains("not-it-at-all"))
            }
        }
    }
}

@Suite("Log retention")
struct LogRetentionTests {
    @Test func entriesOlderThanTheRetentionGo() async throws {
        let clock = TestClock()
        try await withDesk(clock: clock) { app, _ in
            let log = SystemLog(sql: try #require(app.db as? any SQLDatabase), now: clock.provider, logger: app.logger)
            await log.write(.information, source: "test", "old entry", correlationId: nil)
            clock.advance(by: 31 * 86400)
            await log.write(.information, source: "test", "new entry", correlationId: nil)
            await LogRetention.sweep(app, days: 30)
            let messages = try await app.table(.GET, "syslog?sysparm_query=source=test", as: "admin.user").results
                .compactMap { $0["message"] as? String }
            #expect(messages == ["new entry"])
        }
    }
}

import Foundation
import SQLKit
import ServerSupport
import TestSupport
import Testing
import Vapor
import VaporTesting

@testable import ServiceDesk

@Suite("/oauth_token.do and Bearer tokens")
struct OAuthTokenTests {
    func token(_ app: Application, _ fields: [String: String], basic: (String, String)? = nil) async throws
        -> TestingHTTPResponse
    {
        var headers: HTTPHeaders = ["Content-Type": "application/x-www-form-urlencoded"]
        if let basic { headers.basicAuthorization = BasicAuthorization(username: basic.0, password: basic.1) }
        return try await app.testing().sendRequest(
            .POST, "/oauth_token.do", headers: headers, body: ByteBuffer(string: HTTPForm.encode(fields)))
    }

    func passwordGrant(
        _ app: Application, _ client: (clientId: String, clientSecret: String), user: String = "integration"
    )
        async throws -> TestingHTTPResponse
    {
        try await token(
            app,
            [
                "grant_type": "password", "client_id": client.clientId, "client_secret": client.clientSecret,
                "username": user, "password": DeskFixture.password(user),
            ])
    }

    @Test func passwordGrantGivesTokensThatCallTheTableAPI() async throws {
        let clock = TestClock()
        try await withDesk(clock: clock) { app, _ in
            let client = try await DeskDirectory(app: app).createInboundEntity(
                name: "M365", refreshTokenLifespan: 864_000)
            let res = try await passwordGrant(app, client)
            #expect(res.status == .ok)
            let body = res.object
            #expect(body["token_type"] as? String == "Bearer")
            #expect(body["scope"] as? String == "useraccount")
            #expect(body["expires_in"] as? Int == 1800)
            let access = try #require(body["access_token"] as? String)
            let refresh = try #require(body["refresh_token"] as? String)

            let list = try await app.testing().sendRequest(
                .GET, "/api/now/table/incident", headers: ["Authorization": "Bearer \(access)"])
            #expect(list.status == .ok)

            let renewed = try await token(
                app, ["grant_type": "refresh_token", "refresh_token": refresh],
                basic: (client.clientId, client.clientSecret))
            #expect(renewed.status == .ok)
            #expect(renewed.object["refresh_token"] as? String == refresh)
            #expect(renewed.object["access_token"] as? String != access)

            clock.advance(by: 1801)
            let expired = try await app.testing().sendRequest(
                .GET, "/api/now/table/incident", headers: ["Authorization": "Bearer \(access)"])
            #expect(expired.status == .unauthorized)
            clock.advance(by: 864_000)
            let lateRefresh = try await token(
                app,
                [
                    "grant_type": "refresh_token", "refresh_token": refresh, "client_id": client.clientId,
                    "client_secret": client.clientSecret,
                ])
            #expect(lateRefresh.status == .unauthorized)
        }
    }

    @Test func everyRefusalIsTheSameUninformative401() async throws {
        let clock = TestClock()
        try await withDesk(clock: clock) { app, _ in
            let client = try await DeskDirectory(app: app).createInboundEntity(name: "M365")
            let cases: [[String: String]] = [
                [
                    "grant_type": "password", "client_id": client.clientId, "client_secret": "wrong",
                    "username": "agent",
                    "password": DeskFixture.password("agent"),
                ],
                [
                    "grant_type": "password", "client_id": client.clientId, "client_secret": client.clientSecret,
                    "username": "agent", "password": "wrong",
                ],
                [
                    "grant_type": "client_credentials", "client_id": client.clientId,
                    "client_secret": client.clientSecret,
                ],
                [
                    "grant_type": "refresh_token", "client_id": client.clientId, "client_secret": client.clientSecret,
                    "refresh_token": "nope",
                ],
                [:],
            ]
            for fields in cases.dropLast() {
                let res = try await token(app, fields)
                #expect(res.status == .unauthorized)
                #expect(
                    res.object as? [String: String] == ["error_description": "access_denied", "error": "server_error"])
            }
            // The admin learns why from the system log, never with a secret or password in it: one entry per
            // client address and minute, showing the latest reason and how many refusals it stands for.
            func oauthLog() async throws -> (messages: [String], body: String) {
                let log = try await app.table(.GET, "syslog?sysparm_query=source=oauth", as: "admin.user")
                return (log.results.compactMap { $0["message"] as? String }, log.body.string)
            }
            var messages = try await oauthLog().messages
            #expect(messages.count == 1)
            #expect(messages.first?.contains("unknown, expired or revoked refresh token") == true)
            #expect(messages.first?.contains("[4 refused requests from") == true)

            clock.advance(by: 61)
            let last = try await token(app, cases[cases.count - 1])
            #expect(last.status == .unauthorized)
            let log = try await oauthLog()
            messages = log.messages
            #expect(messages.count == 2)
            #expect(
                messages.contains { $0.contains("unknown or inactive client ID") && !$0.contains("refused requests") })
            #expect(!log.body.contains(client.clientSecret))
            #expect(!log.body.contains(DeskFixture.password("agent")))
        }
    }

    @Test func deactivatingTheEntityOrTheUserRevokesTokens() async throws {
        try await withDesk { app, _ in
            let client = try await DeskDirectory(app: app).createInboundEntity(name: "M365")
            let access = try #require(try await passwordGrant(app, client).object["access_token"] as? String)
            let entities = try await app.table(
                .GET, "oauth_entity?sysparm_query=client_id=\(client.clientId)", as: "admin.user")
            #expect(entities.results.first?["client_secret"] == nil)
            let entityId = try #require(entities.results.first?["sys_id"] as? String)
            #expect(
                try await app.table(.PATCH, "oauth_entity/\(entityId)", as: "admin.user", json: ["active": false])
                    .status == .ok)
            let refused = try await app.testing().sendRequest(
                .GET, "/api/now/table/incident", headers: ["Authorization": "Bearer \(access)"])
            #expect(refused.status == .unauthorized)
            #expect(try await passwordGrant(app, client).status == .unauthorized)

            _ = try await app.table(.PATCH, "oauth_entity/\(entityId)", as: "admin.user", json: ["active": true])
            let again = try #require(try await passwordGrant(app, client).object["access_token"] as? String)
            let users = try await app.table(.GET, "sys_user?sysparm_query=user_name=integration", as: "admin.user")
            let userId = try #require(users.results.first?["sys_id"] as? String)
            _ = try await app.table(.PATCH, "sys_user/\(userId)", as: "admin.user", json: ["active": "false"])
            let userGone = try await app.testing().sendRequest(
                .GET, "/api/now/table/incident", headers: ["Authorization": "Bearer \(again)"])
            #expect(userGone.status == .unauthorized)
        }
    }

    @Test func clientSecretsAreSealedAtRestAndOnlyAdminsSeeEntities() async throws {
        try await withDesk { app, _ in
            let client = try await DeskDirectory(app: app).createInboundEntity(name: "M365")
            let sql = try #require(app.db as? any SQLDatabase)
            let stored = try await sql.raw("SELECT client_secret FROM desk_oauth_entity").first()?
                .decode(column: "client_secret", as: String.self)
            #expect(stored?.hasPrefix("v1.") == true)
            #expect(stored?.contains(client.clientSecret) == false)
            #expect(try await app.table(.GET, "oauth_entity", as: "agent").status == .forbidden)
        }
    }
}

import Crypto
import Foundation
import Identity
import SQLKit
import ServerSupport
import TestSupport
import Testing
import Vapor
import VaporTesting

@testable import ServiceDesk

/// The aad setup mode: the desk accepts Identity's app tokens through an OIDC provider entity and maps them
/// to the integration user whose user ID is the REST user app's client ID.
@Suite("Desk OIDC verification of Identity's real tokens")
struct OIDCVerificationTests {
    /// Sets up the OIDC entity (audience = REST API app) and the integration user named after the REST user app.
    static func configureOIDC(
        _ desk: Application, identity: RunningIdentity, audience: String? = nil, metadataURL: String? = nil,
        acceptedTenants: String = ""
    ) async throws {
        let directory = DeskDirectory(app: desk)
        let config = try await directory.insert(
            DeskTables.oidcProviderConfiguration,
            [
                "oidc_provider": "Contoso Entra", "oidc_metadata_url": metadataURL ?? identity.v1MetadataURL,
                "user_claim": "appid", "user_field": "user_name", "oidc_config_cache_life_span": 120,
                "accepted_tenants": acceptedTenants,
            ])
        try await directory.insert(
            DeskTables.oauthEntity,
            [
                "name": "Contoso REST API", "type": "oidc_provider", "client_id": audience ?? identity.restAPI.appId,
                "oidc_provider_configuration": (config["sys_id"] ?? nil) ?? "",
            ])
        if try await desk.table(.GET, "sys_user?sysparm_query=user_name=\(identity.restUser.appId)", as: "admin.user")
            .results.isEmpty
        {
            try await directory.createUser(
                userName: identity.restUser.appId, firstName: "Microsoft 365", lastName: "REST user", email: "",
                password: RandomToken.password(), roles: ["itil"], webServiceAccessOnly: true)
        }
    }

    /// A JWT segment's JSON object.
    static func segment(_ text: String) throws -> [String: Any] {
        guard let data = Data(base64URLEncoded: text),
            let object = try JSONSerialization.jsonObject(with: data) as? [String: Any]
        else { throw TestFailure("not a JSON segment") }
        return object
    }

    /// The messages of the system log's OAuth entries.
    static func refusals(_ desk: Application) async throws -> [String] {
        try await desk.table(.GET, "syslog?sysparm_query=source=oauth", as: "admin.user").results
            .compactMap { $0["message"] as? String }
    }

    static func bearer(_ desk: Application, _ token: String, path: String = "incident?sysparm_limit=1") async throws
        -> TestingHTTPResponse
    {
        try await desk.testing().sendRequest(
            .GET, "/api/now/table/" + path, headers: ["Authorization": "Bearer \(token)"])
    }

    @Test func aGoodTokenIsAcceptedAndMappedToTheIntegrationUser() async throws {
        let clock = TestClock(Date())
        try await withRunningIdentity(clock: clock) { identity in
            try await withDesk(clock: clock) { desk, _ in
                try await Self.configureOIDC(desk, identity: identity)
                let token = try await identity.token(resource: identity.restAPI.appId)
                let list = try await Self.bearer(desk, token)
                #expect(list.status == .ok)
                let created = try await desk.testing().sendRequest(
                    .POST, "/api/now/table/incident",
                    headers: ["Authorization": "Bearer \(token)", "Content-Type": "application/json"],
                    body: ByteBuffer(string: #"{"short_description":"Created by the connector"}"#))
                #expect(created.status == .created)
                #expect(created.result["sys_created_by"] as? String == identity.restUser.appId)

                // Metadata and keys came through the logged outbound client, once (then cached).
                let calls = try await desk.table(.GET, "sys_outbound_http_log", as: "admin.user").results
                #expect(
                    calls.compactMap { $0["path"] as? String }.sorted()
                        == ["/\(identity.tenantId)/.well-known/openid-configuration", "/common/discovery/keys"].sorted()
                )
                #expect(
                    calls.allSatisfy {
                        $0["response_status"] as? String == "200" && $0["hostname"] as? String == "127.0.0.1"
                    })
            }
        }
    }

    @Test func aMultiTenantIssuerAcceptsOnlyTheTenantsItLists() async throws {
        let clock = TestClock(Date())
        try await withRunningIdentity(clock: clock) { identity in
            let common = "\(identity.baseURL)/common/.well-known/openid-configuration"
            try await withDesk(clock: clock) { desk, _ in
                try await Self.configureOIDC(desk, identity: identity, metadataURL: common)
                let token = try await identity.token(resource: identity.restAPI.appId)
                #expect(try await Self.bearer(desk, token).status == .unauthorized)
                #expect(try await Self.refusals(desk).contains { $0.contains("no accepted tenants are configured") })
            }
            try await withDesk(clock: clock) { desk, _ in
                try await Self.configureOIDC(
                    desk, identity: identity, metadataURL: common,
                    acceptedTenants: "00000000-0000-0000-0000-000000000001")
                let token = try await identity.token(resource: identity.restAPI.appId)
                #expect(try await Self.bearer(desk, token).status == .unauthorized)
                #expect(
                    try await Self.refusals(desk).contains {
                        $0.contains("is not among the accepted tenants")
                    })
            }
            try await withDesk(clock: clock) { desk, _ in
                try await Self.configureOIDC(
                    desk, identity: identity, metadataURL: common,
                    acceptedTenants: "00000000-0000-0000-0000-000000000001, \(identity.tenantId.uppercased())")
                let token = try await identity.token(resource: identity.restAPI.appId)
                #expect(try await Self.bearer(desk, token).status == .ok)
            }
        }
    }

    @Test func badTokensAreRefusedWithTheReasonInTheSystemLog() async throws {
        let clock = TestClock(Date())
        try await withRunningIdentity(clock: clock) { identity in
            try await withDesk(clock: clock) { desk, _ in
                try await Self.configureOIDC(desk, identity: identity)
                // The other API's entity points at the v2 metadata, whose issuer its v1 tokens do not carry.
                try await Self.configureOIDC(
                    desk, identity: identity, audience: identity.otherAPI.appId, metadataURL: identity.v2MetadataURL)
                let good = try await identity.token(resource: identity.restAPI.appId)
                let parts = good.split(separator: ".").map(String.init)
                let header = try Self.segment(parts[0])
                let kid = try #require(header["kid"] as? String)

                func encode(_ object: [String: Any]) throws -> String {
                    try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys]).base64URLEncodedString()
                }
                var claims = try Self.segment(parts[1])
                claims["appid"] = "00000000-0000-0000-0000-000000000000"
                let tampered = [parts[0], try encode(claims), parts[2]].joined(separator: ".")

                let unknownKid = [
                    try encode(["alg": "RS256", "typ": "JWT", "kid": "no-such-key"]), parts[1], parts[2],
                ]
                .joined(separator: ".")
                let algNone = [try encode(["alg": "none", "typ": "JWT", "kid": kid]), parts[1], ""].joined(
                    separator: ".")
                // HS256 signed with the public key's bytes: the classic key-confusion attack.
                let jwks = try await identity.app.testing().sendRequest(.GET, "/\(identity.tenantId)/discovery/keys")
                let publicKey = Data(jwks.body.readableBytesView)
                let hsInput = try encode(["alg": "HS256", "typ": "JWT", "kid": kid]) + "." + parts[1]
                let hsSignature = Data(
                    HMAC<SHA256>.authenticationCode(for: Data(hsInput.utf8), using: SymmetricKey(data: publicKey)))
                let hs256 = hsInput + "." + hsSignature.base64URLEncodedString()
                let wrongIssuer = try await identity.token(resource: identity.otherAPI.appId)

                let cases: [(String, String, String)] = [
                    ("tampered claims", tampered, "bad signature"),
                    ("unknown kid", unknownKid, "unknown signing key 'no-such-key'"),
                    ("alg none", algNone, "algorithm 'none' is not accepted"),
                    ("HS256 with the public key", hs256, "algorithm 'HS256' is not accepted"),
                    ("wrong issuer", wrongIssuer, "is not the provider's issuer"),
                    ("not a JWT", "a.b.c", "not a JWT"),
                ]
                for (name, token, reason) in cases {
                    let response = try await Self.bearer(desk, token)
                    #expect(response.status == .unauthorized, "\(name)")
                    #expect(response.errorMessage == "User Not Authenticated", "\(name)")
                    #expect(try await Self.refusals(desk).contains { $0.contains(reason) }, "\(name)")
                }

                // An audience no entity names.
                let graphless = try await identity.app.directoryAdmin().createApp(
                    tenant: identity.tenantId,
                    .init(displayName: "Unrelated API", appRoles: ["X.Read"], withSecret: false))
                _ = try await identity.app.directoryAdmin().grant(
                    tenant: identity.tenantId, client: identity.restUser.appId,
                    .init(resource: graphless.appId, role: "X.Read"))
                let otherAudience = try await identity.token(resource: graphless.appId)
                #expect(try await Self.bearer(desk, otherAudience).status == .unauthorized)

                // Expired: past `exp` and the skew.
                #expect(try await Self.bearer(desk, good).status == .ok)
                clock.advance(by: 3600 + RS256JWT.skew + 5)
                #expect(try await Self.bearer(desk, good).status == .unauthorized)
                #expect(try await Self.refusals(desk).contains { $0.contains("the token has expired") })
                // No log line or log table ever holds a token.
                #expect(!TestLogging.capture.text.contains(parts[2]))
                let allSyslog = try await desk.table(.GET, "syslog", as: "admin.user").body.string
                #expect(!allSyslog.contains(parts[2]))
            }
        }
    }

    @Test func tokensSignedWithARotatedKeyAreAcceptedOnceTheKeysAreFetchedAgain() async throws {
        let clock = TestClock(Date())
        try await withRunningIdentity(clock: clock) { identity in
            try await withDesk(clock: clock) { desk, _ in
                try await Self.configureOIDC(desk, identity: identity)
                let before = try await identity.token(resource: identity.restAPI.appId)
                #expect(try await Self.bearer(desk, before).status == .ok)
                try await SigningKeyAdmin(database: identity.app.db, keyRing: identity.app.identity.keyRing).rotate()
                let after = try await identity.token(resource: identity.restAPI.appId)
                #expect(
                    try Self.segment(String(after.split(separator: ".")[0]))["kid"] as? String
                        != (try Self.segment(String(before.split(separator: ".")[0]))["kid"] as? String))
                // The keys were fetched a moment ago: an unknown kid waits for the refetch interval.
                #expect(try await Self.bearer(desk, after).status == .unauthorized)
                clock.advance(by: JWKSCache.keyRefetchInterval + 1)
                #expect(try await Self.bearer(desk, after).status == .ok)
                // The old key stays published until its tokens expire, so older tokens still pass.
                #expect(try await Self.bearer(desk, before).status == .ok)
            }
        }
    }

    @Test func aDeactivatedEntityOrUnknownUserIsRefused() async throws {
        let clock = TestClock(Date())
        try await withRunningIdentity(clock: clock) { identity in
            try await withDesk(clock: clock) { desk, _ in
                try await Self.configureOIDC(desk, identity: identity)
                let token = try await identity.token(resource: identity.restAPI.appId)
                let users = try await desk.table(
                    .GET, "sys_user?sysparm_query=user_name=\(identity.restUser.appId)", as: "admin.user"
                ).results
                let userId = try #require(users.first?["sys_id"] as? String)
                _ = try await desk.table(.PATCH, "sys_user/\(userId)", as: "admin.user", json: ["active": false])
                #expect(try await Self.bearer(desk, token).status == .unauthorized)
                _ = try await desk.table(.PATCH, "sys_user/\(userId)", as: "admin.user", json: ["active": true])
                #expect(try await Self.bearer(desk, token).status == .ok)

                let entities = try await desk.table(
                    .GET, "oauth_entity?sysparm_query=type=oidc_provider", as: "admin.user"
                )
                .results
                let entityId = try #require(entities.first?["sys_id"] as? String)
                _ = try await desk.table(.PATCH, "oauth_entity/\(entityId)", as: "admin.user", json: ["active": false])
                #expect(try await Self.bearer(desk, token).status == .unauthorized)
            }
        }
    }
}

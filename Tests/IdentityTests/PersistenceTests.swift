import Crypto
import Fluent
import Foundation
import ServerSupport
import TestSupport
import Testing
import Vapor
import VaporTesting
import WireModels

@testable import Identity

/// Identity's data survives restarts on SQLite files and on PostgreSQL (when `M365_TEST_POSTGRES_URL` is set).
@Suite("Persistence", .serialized)
struct PersistenceTests {
    static let postgresURL = TestPostgres.url("M365_TEST_POSTGRES_URL")

    /// In this serialized suite: it builds and reverts Identity's tables on the shared database.
    @Test(.enabled(if: postgresURL != nil, Comment(rawValue: TestPostgres.notConfigured("M365_TEST_POSTGRES_URL"))))
    func anUpgradedPostgresDatabaseEqualsAFreshOne() async throws {
        let location = DatabaseLocation.postgres(url: Self.postgresURL!)
        try await IdentityMigrationHistoryTests.check(fresh: location, upgraded: location)
    }

    @Test(.enabled(if: TestPostgres.isRequired, "CI only"))
    func ciRunsThePostgresTests() {
        #expect(
            Self.postgresURL != nil, "\(TestPostgres.notConfigured("M365_TEST_POSTGRES_URL")), but CI requires them")
    }

    @Test func sqliteFileKeepsDirectoryAndSigningKeysAcrossRestarts() async throws {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("identity-\(UUID().uuidString).sqlite")
        defer { try? FileManager.default.removeItem(at: file) }
        try await restartRoundTrip(.sqliteFile(file), revertAtEnd: false)
    }

    @Test(.enabled(if: postgresURL != nil, Comment(rawValue: TestPostgres.notConfigured("M365_TEST_POSTGRES_URL"))))
    func postgresKeepsDirectoryAndSigningKeysAcrossRestarts() async throws {
        try await restartRoundTrip(.postgres(url: Self.postgresURL!), revertAtEnd: true)
    }

    @Test(.enabled(if: postgresURL != nil, Comment(rawValue: TestPostgres.notConfigured("M365_TEST_POSTGRES_URL"))))
    func everyGrantWorksOnPostgres() async throws {
        try await withIdentity(database: .postgres(url: Self.postgresURL!)) { app, fx in
            let v1 = try await app.postForm(
                fx.v1TokenPath,
                [
                    "grant_type": "client_credentials", "client_id": fx.client.appId, "client_secret": fx.clientSecret,
                    "resource": fx.api.appId,
                ])
            #expect(try decodeJWT(v1.json(TokenResponseV1.self).accessToken).claims.roles == ["Tickets.Read"])

            let flow = AuthorizationCodeFlowTests()
            let code = try flow.code(
                from: try await flow.signIn(app, fx, query: flow.authorizeQuery(fx, scope: "openid offline_access")))
            let tokens = try await flow.redeem(app, fx, code: code)
            #expect(tokens.status == .ok)
            #expect(try await flow.redeem(app, fx, code: code).entraError?.errorCodes == [54005])

            let refresh = try #require(try tokens.json(TokenResponseV2.self).refreshToken)
            let form = [
                "grant_type": "refresh_token", "client_id": fx.client.appId,
                "client_secret": fx.clientSecret, "refresh_token": refresh,
            ]
            #expect(try await app.postForm(fx.v2TokenPath, form).status == .ok)
            #expect(try await app.postForm(fx.v2TokenPath, form).entraError?.errorCodes == [70008])

            try await app.identity.keyRing.rotate(on: app.db)
            #expect(try await app.get(IdentityPath.v1Keys(tenant: "common")).json(JSONWebKeySet.self).keys.count == 2)
        }
    }

    /// Seeds a tenant in one app, shuts it down, and checks a second app on the same database issues tokens
    /// with the stored secret and the same signing key.
    private func restartRoundTrip(_ database: DatabaseLocation, revertAtEnd: Bool) async throws {
        TestLogging.bootstrap()
        let clock = TestClock()
        let masterKey = MasterKey(key: SymmetricKey(size: .bits256))
        let domain = "persist-\(UUID().uuidString.prefix(8).lowercased()).onmicrosoft.com"

        let first = try await Application.make(.testing)
        let app: IdentityAdmin.App
        let firstKid: String
        do {
            try await configure(first, config: identityConfig(database: database, clock: clock, masterKey: masterKey))
            try await first.prepareIdentity()
            let admin = first.directoryAdmin()
            _ = try await admin.createTenant(.init(name: "Persist", domains: [domain]))
            app = try await admin.createApp(tenant: domain, .init(displayName: "Client"))
            firstKid = try await first.identity.keyRing.activeKey(on: first.db).kid
        } catch {
            try? await first.asyncShutdown()
            throw error
        }
        try await first.asyncShutdown()

        let second = try await Application.make(.testing)
        do {
            try await configure(second, config: identityConfig(database: database, clock: clock, masterKey: masterKey))
            try await second.prepareIdentity()
            let res = try await second.postForm(
                IdentityPath.v2Token(tenant: domain),
                [
                    "grant_type": "client_credentials", "client_id": app.appId, "client_secret": app.secret!,
                    "scope": "https://graph.microsoft.com/.default",
                ])
            #expect(res.status == .ok)
            let token = try res.json(TokenResponseV2.self).accessToken
            #expect(try decodeJWT(token).header["kid"] == firstKid)
            if revertAtEnd { try await second.autoRevert() }
        } catch {
            if revertAtEnd { try? await second.autoRevert() }
            try? await second.asyncShutdown()
            throw error
        }
        try await second.asyncShutdown()
    }

    /// Rotations at once on an SQLite file (as from several instances or admins): each reads the current key
    /// before it writes, and they wait for one another instead of failing with "database is locked".
    @Test func rotationsAtOnceAllLandWithOneActiveKey() async throws {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("identity-\(UUID().uuidString).sqlite")
        defer { try? FileManager.default.removeItem(at: file) }
        let clock = TestClock()
        let app = try await Application.make(.testing)
        do {
            try await configure(app, config: identityConfig(database: .sqliteFile(file), clock: clock))
            try await app.prepareIdentity()
            let before = try await SigningKey.query(on: app.db).count()
            let ring = app.identity.keyRing
            try await withThrowingTaskGroup(of: Void.self) { group in
                for _ in 0..<12 { group.addTask { _ = try await ring.rotate(on: app.db) } }
                try await group.waitForAll()
            }
            #expect(try await SigningKey.query(on: app.db).count() == before + 12)
            #expect(try await SigningKey.query(on: app.db).filter(\.$retiredAt == nil).count() == 1)
        } catch {
            try? await app.asyncShutdown()
            throw error
        }
        try await app.asyncShutdown()
    }

    @Test func aWrongMasterKeyFailsLoudlyInsteadOfSigningWithGarbage() async throws {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("identity-\(UUID().uuidString).sqlite")
        defer { try? FileManager.default.removeItem(at: file) }
        let clock = TestClock()
        let first = try await Application.make(.testing)
        try await configure(first, config: identityConfig(database: .sqliteFile(file), clock: clock))
        try await first.prepareIdentity()
        try await first.asyncShutdown()

        let second = try await Application.make(.testing)
        try await configure(second, config: identityConfig(database: .sqliteFile(file), clock: clock))
        await #expect(throws: MasterKey.OpenError.wrongKeyOrTampered) { try await second.prepareIdentity() }
        try await second.asyncShutdown()
    }
}

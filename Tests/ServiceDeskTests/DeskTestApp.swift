import Crypto
import Foundation
import ServerSupport
import TestSupport
import Testing
import Vapor
import VaporTesting

@testable import ServiceDesk

/// Desk users of the tests, by role; every password is `Passw0rd!` plus the user name.
struct DeskFixture {
    static let baseURL = "http://desk.test"
    let callerId: String
    let agentId: String

    static let masterKey = MasterKey(key: SymmetricKey(size: .bits256))

    static func password(_ user: String) -> String { "Passw0rd!\(user)" }

    static func basic(_ user: String) -> HTTPHeaders {
        var headers = HTTPHeaders()
        headers.basicAuthorization = BasicAuthorization(username: user, password: password(user))
        return headers
    }
}

func deskConfig(
    database: DatabaseLocation, clock: TestClock, publicURL: String = DeskFixture.baseURL,
    masterKey: MasterKey = DeskFixture.masterKey
) -> DeskConfig {
    DeskConfig(
        endpoint: ServiceEndpoint(host: "127.0.0.1", port: 0, usesTLS: false, publicURL: publicURL),
        database: database, tls: nil, masterKey: masterKey, passwordCost: 4, now: clock.provider)
}

func withDesk(
    database: DatabaseLocation = .sqliteMemory, clock: TestClock = TestClock(),
    publicURL: String = DeskFixture.baseURL, _ body: (Application, DeskFixture) async throws -> Void
) async throws {
    try await withTestApp(
        setUp: { app in
            try await configure(app, config: deskConfig(database: database, clock: clock, publicURL: publicURL))
            try await app.prepareDesk()
            let directory = DeskDirectory(app: app)
            let people: [(String, [String], Bool)] = [
                ("admin.user", ["admin"], false),
                ("agent", ["itil", "x_mioms_m365_assis.insights_user"], false),
                ("insights", ["x_mioms_m365_assis.insights_user"], false),
                ("integration", ["itil"], true),
                ("caller", [], false),
            ]
            var ids: [String: String] = [:]
            for (name, roles, webOnly) in people {
                ids[name] = try await directory.createUser(
                    userName: name, firstName: name.capitalized, lastName: "Test", email: "\(name)@example.com",
                    password: DeskFixture.password(name), roles: roles, webServiceAccessOnly: webOnly)
            }
            return DeskFixture(callerId: ids["caller"]!, agentId: ids["agent"]!)
        }, body)
}

/// A second desk instance on a database another test desk already set up: nothing seeded, nothing reverted.
func withDeskInstance(database: DatabaseLocation, _ body: (Application) async throws -> Void) async throws {
    let app = try await Application.make(.testing)
    do {
        try await configure(app, config: deskConfig(database: database, clock: TestClock()))
        try await body(app)
    } catch {
        try? await app.asyncShutdown()
        throw error
    }
    try await app.asyncShutdown()
}

extension Application {
    func table(
        _ method: HTTPMethod, _ path: String, as user: String?, json: [String: Any]? = nil
    ) async throws -> TestingHTTPResponse {
        var headers = user.map(DeskFixture.basic) ?? HTTPHeaders()
        var body: ByteBuffer?
        if let json {
            headers.contentType = .json
            body = ByteBuffer(data: try JSONSerialization.data(withJSONObject: json))
        }
        return try await testing().sendRequest(method, "/api/now/table/" + path, headers: headers, body: body)
    }
}

extension TestingHTTPResponse {
    var object: [String: Any] {
        (try? JSONSerialization.jsonObject(with: Data(body.readableBytesView))) as? [String: Any] ?? [:]
    }
    var result: [String: Any] { object["result"] as? [String: Any] ?? [:] }
    /// The records of a list answer; anything else (an error envelope, a single record) is a test failure, so
    /// no assertion on an empty list passes on an error.
    var results: [[String: Any]] {
        guard let list = object["result"] as? [[String: Any]] else {
            Issue.record("Expected a list of records, got \(status.code): \(body.string.prefix(300))")
            return []
        }
        return list
    }
    var errorMessage: String? { (object["error"] as? [String: Any])?["message"] as? String }
}

extension WebBrowser {
    /// Signs in a fixture user with the fixture's password.
    @discardableResult
    func signIn(_ user: String) async throws -> TestingHTTPResponse {
        try await signIn(user, password: DeskFixture.password(user))
    }
}

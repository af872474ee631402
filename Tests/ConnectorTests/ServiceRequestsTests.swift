import Foundation
import Identity
import SQLKit
import TestSupport
import Testing
import Vapor
import VaporTesting
import WireModels

@testable import Connector

@Suite("Service requests: cases opened by the desk, their threads and the outbox")
struct ServiceRequestsTests {
    static let path = "/" + ConnectorPath.serviceRequests

    /// Contoso's profile names the desk's app and a basic repository; the Connector reads contoso's directory with
    /// an app holding Graph's Directory.Read.All, as `serve` registers it.
    func prepared(_ fx: ConnectorFixture, directory: Bool = true) async throws -> String {
        _ = try await fx.admin(
            .PATCH, "/tenants/\(fx.tenantId)/profile",
            json: #"{"supportTool":"ServiceNow","appId":"\#(fx.deskApp.appId)"}"#)
        let repository = try await fx.admin(
            .POST, "/tenants/\(fx.tenantId)/profile/repositories",
            json:
                #"{"repositoryId":"contoso-desk","endpoint":"https://desk.contoso.test","authenticationType":"basic","clientId":"c","clientSecret":"s","restUserName":"m365.integration","restUserPassword":"p"}"#
        )
        #expect(repository.status == .created, "\(repository.body.string)")
        if directory {
            let admin = fx.identity.directoryAdmin()
            let reader = try await admin.createApp(tenant: fx.tenantId, .init(displayName: "Connector directory"))
            _ = try await admin.grant(
                tenant: fx.tenantId, client: reader.appId,
                .init(
                    resource: MicrosoftGraphResource.identifierURI, role: MicrosoftGraphResource.Role.directoryReadAll))
            try await ConnectorOperations(app: fx.connector).setDirectoryCredentials(
                tenant: fx.tenantId, clientId: reader.appId, secret: reader.secret!)
        }
        return try await fx.token(fx.deskApp)
    }

    static func body(contact: String, key: String = "INC0010001-attempt", severity: String = "B") -> String {
        """
        {"repositoryId":"contoso-desk","ticketNumber":"INC0010001","ticketUrl":"https://desk.contoso.test/incident.do?sys_id=1",\
        "title":"Mail flow to fabrikam.com delayed","description":"Messages to fabrikam.com arrive hours late.",\
        "severity":"\(severity)","contact":{"email":"\(contact)","name":"Contoso admin","phone":"+1 555 0100"},\
        "testEnvironment":true,"idempotencyKey":"\(key)"}
        """
    }

    @Test func aContactMustBeAnAdministratorAndARetryReturnsTheSameCase() async throws {
        try await withConnector { fx in
            let token = try await prepared(fx)
            let refused = try await fx.send(
                .POST, Self.path, token: token, json: Self.body(contact: "user@contoso.onmicrosoft.com"))
            #expect(refused.status == .forbidden)
            #expect(refused.jsonObject["code"] as? String == "contactNotAdministrator")
            #expect(
                (refused.jsonObject["detail"] as? String)?.hasPrefix(
                    "user@contoso.onmicrosoft.com is not a Microsoft 365 administrator") == true)
            let stranger = try await fx.send(
                .POST, Self.path, token: token, json: Self.body(contact: "nobody@contoso.onmicrosoft.com"))
            #expect(stranger.jsonObject["code"] as? String == "contactNotAdministrator")

            let created = try await fx.send(
                .POST, Self.path, token: token, json: Self.body(contact: "Admin@contoso.onmicrosoft.com"))
            #expect(created.status == .created, "\(created.body.string)")
            let number = try #require(created.jsonObject["number"] as? String)
            #expect(number == "SR0000001")
            #expect(created.jsonObject["status"] as? String == "new")
            #expect(
                (created.jsonObject["contact"] as? [String: Any])?["email"] as? String
                    == "admin@contoso.onmicrosoft.com")
            #expect(created.jsonObject["testEnvironment"] as? Bool == true)
            let retried = try await fx.send(
                .POST, Self.path, token: token, json: Self.body(contact: "admin@contoso.onmicrosoft.com"))
            #expect(retried.status == .ok)
            #expect(retried.jsonObject["number"] as? String == number)
            let second = try await fx.send(
                .POST, Self.path, token: token,
                json: Self.body(contact: "support@contoso.onmicrosoft.com", key: "INC0010002-attempt"))
            #expect(second.jsonObject["number"] as? String == "SR0000002")
            let listed = try await fx.get(Self.path, token: token)
            #expect(
                (try JSONSerialization.jsonObject(with: Data(listed.body.readableBytesView)) as? [[String: Any]])?.count
                    == 2)
        }
    }

    @Test func theAdministratorCheckNamesTheRoles() async throws {
        try await withConnector { fx in
            let token = try await prepared(fx)
            func check(_ email: String) async throws -> TestingHTTPResponse {
                try await fx.send(
                    .POST, "/" + ConnectorPath.administratorCheck, token: token, json: #"{"email":"\#(email)"}"#)
            }
            let admin = try await check("admin@contoso.onmicrosoft.com")
            #expect(admin.jsonObject["isAdministrator"] as? Bool == true)
            #expect(admin.jsonObject["roles"] as? [String] == ["Global Administrator"])
            #expect(
                try await check("support@contoso.onmicrosoft.com").jsonObject["roles"] as? [String] == [
                    "Service Support Administrator"
                ])
            #expect(try await check("user@contoso.onmicrosoft.com").jsonObject["isAdministrator"] as? Bool == false)
            #expect(try await check("not an address").status == .badRequest)
            let stranger = try await fx.send(
                .POST, "/" + ConnectorPath.administratorCheck, token: try await fx.token(fx.stranger),
                json: #"{"email":"admin@contoso.onmicrosoft.com"}"#)
            #expect(stranger.status == .forbidden)
        }
    }

    @Test func withoutDirectoryCredentialsTheCheckSaysWhy() async throws {
        try await withConnector { fx in
            let token = try await prepared(fx, directory: false)
            let refused = try await fx.send(
                .POST, Self.path, token: token, json: Self.body(contact: "admin@contoso.onmicrosoft.com"))
            #expect(refused.status == .serviceUnavailable)
            #expect(refused.jsonObject["code"] as? String == "directoryUnavailable")
            #expect((refused.jsonObject["detail"] as? String)?.contains("Directory.Read.All") == true)
        }
    }

    @Test func theThreadAndTheOutboxFollowEveryChange() async throws {
        try await withConnector { fx in
            let token = try await prepared(fx)
            let number = try #require(
                try await fx.send(
                    .POST, Self.path, token: token, json: Self.body(contact: "admin@contoso.onmicrosoft.com")
                )
                .jsonObject["number"] as? String)
            let reply = try await fx.send(
                .POST, "\(Self.path)/\(number)/replies", token: token,
                json: #"{"text":"Logs attached.","author":"Beth Anglin"}"#)
            #expect(reply.status == .created)
            #expect(reply.jsonObject["sequence"] as? Int == 1)
            #expect(reply.jsonObject["from"] as? String == "customer")
            let engineer = try await fx.admin(
                .POST, "/serviceRequests/\(number)/updates",
                json: #"{"text":"We are looking at the message trace.","author":"Alex Engineer","status":"inProgress"}"#
            )
            #expect(engineer.status == .created, "\(engineer.body.string)")
            #expect(engineer.jsonObject["status"] as? String == "inProgress")

            let sql = try fx.connector.db.asSQL()
            let outbox = try await sql.select().columns("*").from("connector_outbox").all()
            #expect(outbox.count == 1)
            let payload = try #require(try outbox.first?.decode(column: "payload", as: String.self))
            let decoder = JSONDecoder()
            decoder.dateDecodingStrategy = .iso8601
            let event = try decoder.decode(ServiceRequestEvent.self, from: Data(payload.utf8))
            #expect(event.type == "serviceRequest.updated")
            #expect(event.repositoryId == "contoso-desk")
            #expect(
                event.serviceRequest
                    == .init(number: number, ticketNumber: "INC0010001", status: "inProgress", severity: "B"))
            #expect(event.update.sequence == 2)
            #expect(event.update.from == "support")
            #expect(event.eventId == event.update.id)
            #expect(try outbox.first?.decode(column: "state", as: String.self) == "pending")

            let shown = try await fx.get("\(Self.path)/\(number)", token: token)
            let thread = try #require(shown.jsonObject["updates"] as? [[String: Any]])
            #expect(thread.map { $0["author"] as? String } == ["Beth Anglin", "Alex Engineer"])

            let closed = try await fx.send(.POST, "\(Self.path)/\(number)/close", token: token)
            #expect(closed.jsonObject["status"] as? String == "closed")
            let late = try await fx.send(
                .POST, "\(Self.path)/\(number)/replies", token: token, json: #"{"text":"One more thing"}"#)
            #expect(late.status == .conflict)
            #expect(late.jsonObject["code"] as? String == "serviceRequestClosed")
            #expect(try await fx.get("\(Self.path)/SR9999999", token: token).status == .notFound)
            #expect(try await fx.get("\(Self.path)/..%2Fx", token: token).status == .notFound)
        }
    }

    @Test func badCasesAreRefusedWithTheReason() async throws {
        try await withConnector { fx in
            let token = try await prepared(fx)
            for (body, words) in [
                (Self.body(contact: "admin@contoso.onmicrosoft.com", severity: "Z"), "severity"),
                (Self.body(contact: "admin@contoso.onmicrosoft.com", key: "short"), "idempotencyKey"),
                (
                    Self.body(contact: "admin@contoso.onmicrosoft.com").replacingOccurrences(
                        of: "contoso-desk", with: "other-desk"), "other-desk"
                ),
                (Self.body(contact: "not-an-address"), "e-mail"),
                ("{}", "repositoryId"), ("[", ""),
            ] {
                let answer = try await fx.send(.POST, Self.path, token: token, json: body)
                #expect((400..<500).contains(answer.status.code), "\(words): \(answer.status)")
                let detail = answer.jsonObject["detail"] as? String ?? ""
                #expect(words.isEmpty ? !detail.isEmpty : detail.contains(words), "\(answer.body.string)")
            }
        }
    }
}

import Foundation
import SQLKit
import ServerSupport
import TestSupport
import Testing
import Vapor
import VaporTesting
import WireModels

@testable import Connector

/// The organization profile over `/api/v1`: any signed-in user of the tenant reads it, only a Global or Service
/// Support Administrator changes it, and no secret ever comes back.
@Suite struct OrganizationProfileTests {
    static let profile = "/" + ConnectorPath.organizationProfile
    static let repositories = "/" + ConnectorPath.repositories

    @Test func administratorsEditAndOthersOnlyRead() async throws {
        try await withConnector { fx in
            let admin = try await fx.userToken("admin@contoso.onmicrosoft.com")
            let support = try await fx.userToken("support@contoso.onmicrosoft.com")
            let user = try await fx.userToken("user@contoso.onmicrosoft.com")

            let empty = try await fx.get(Self.profile, token: user)
            #expect(empty.status == .ok)
            #expect(empty.jsonObject["supportTool"] as? String == "none")

            let refused = try await fx.send(.PATCH, Self.profile, token: user, json: #"{"supportTool":"ServiceNow"}"#)
            #expect(refused.status == .forbidden)
            #expect(refused.jsonObject["code"] as? String == ConnectorErrorCode.notAnAdministrator.rawValue)

            let saved = try await fx.send(
                .PATCH, Self.profile, token: admin,
                json: #"{"supportTool":"servicenow","appId":"\#(fx.deskApp.appId)"}"#)
            #expect(saved.status == .ok)
            #expect(saved.jsonObject["supportTool"] as? String == "ServiceNow")
            #expect(saved.jsonObject["appId"] as? String == fx.deskApp.appId)
            #expect(saved.jsonObject["updatedBy"] as? String == "admin@contoso.onmicrosoft.com")

            let repository = """
                {"repositoryId":"contoso-desk","endpoint":"https://desk.contoso.com","authenticationType":"basic",
                 "clientId":"4931e4e2725c475480609a7f821b3c21","clientSecret":"client-secret-value",
                 "restUserName":"m365.integration","restUserPassword":"rest-password-value"}
                """
            let added = try await fx.send(.POST, Self.repositories, token: support, json: repository)
            #expect(added.status == .created)
            #expect(added.jsonObject["refreshTokenExpiration"] as? Int == 864_000)
            #expect((added.jsonObject["clientSecret"] as? [String: Any])?["isSet"] as? Bool == true)

            let listed = try await fx.get(Self.profile, token: user)
            for secret in ["client-secret-value", "rest-password-value"] {
                #expect(!listed.body.string.contains(secret))
                #expect(!added.body.string.contains(secret))
            }
            #expect((listed.jsonObject["repositories"] as? [[String: Any]])?.count == 1)

            // Stored sealed: not in the database in the clear.
            let sql = try fx.connector.db.asSQL()
            let rows = try await sql.select().columns("client_secret", "rest_user_password")
                .from("connector_repositories").all()
            for row in rows {
                let sealed = try row.decode(column: "client_secret", as: String.self)
                #expect(!sealed.contains("client-secret-value"))
            }

            // Changing one field keeps the secrets; an empty secret clears it.
            let changed = try await fx.send(
                .PATCH, Self.repositories + "/contoso-desk", token: admin,
                json: #"{"authenticationType":"aad","restUserPassword":""}"#)
            #expect(changed.status == .ok)
            #expect(changed.jsonObject["authenticationType"] as? String == "aad")
            #expect((changed.jsonObject["clientSecret"] as? [String: Any])?["isSet"] as? Bool == true)
            #expect((changed.jsonObject["restUserPassword"] as? [String: Any])?["isSet"] as? Bool == false)

            #expect(
                try await fx.send(.DELETE, Self.repositories + "/contoso-desk", token: user, json: nil).status
                    == .forbidden)
            #expect(
                try await fx.send(.DELETE, Self.repositories + "/contoso-desk", token: admin, json: nil).status
                    == .noContent)
            let gone = try await fx.get(Self.repositories + "/contoso-desk", token: admin)
            #expect(gone.status == .notFound)
            #expect(gone.jsonObject["code"] as? String == ConnectorErrorCode.repositoryNotRegistered.rawValue)
        }
    }

    @Test func appOnlyTokensCannotEditProfiles() async throws {
        try await withConnector { fx in
            let app = try await fx.token(fx.deskApp)
            let refused = try await fx.send(.PATCH, Self.profile, token: app, json: #"{"supportTool":"none"}"#)
            #expect(refused.status == .forbidden)
            #expect(refused.jsonObject["code"] as? String == ConnectorErrorCode.missingRole.rawValue)
        }
    }

    @Test func badValuesAreRefusedWithTheirReason() async throws {
        try await withConnector { fx in
            let admin = try await fx.userToken("admin@contoso.onmicrosoft.com")
            let cases: [(String, String, String)] = [
                (Self.profile, #"{"supportTool":"Jira"}"#, "support tool"),
                (Self.profile, #"{"appId":"not-a-guid"}"#, "App ID"),
                (Self.profile, #"{"appId": 12}"#, ""),
                (Self.profile, #"{"supportTool":"none",}"#, ""),
            ]
            for (path, body, words) in cases {
                let response = try await fx.send(.PATCH, path, token: admin, json: body)
                #expect(response.status == .badRequest, "\(body)")
                #expect(response.jsonObject["code"] as? String == ConnectorErrorCode.invalidRequest.rawValue, "\(body)")
                if !words.isEmpty {
                    #expect((response.jsonObject["detail"] as? String ?? "").contains(words), "\(body)")
                }
            }
            let repositories: [String] = [
                #"{"repositoryId":"r","endpoint":"ftp://desk","authenticationType":"basic"}"#,
                #"{"repositoryId":"r","endpoint":"https://user:pw@desk.example","authenticationType":"basic"}"#,
                #"{"repositoryId":"r","endpoint":"https://desk.example","authenticationType":"kerberos"}"#,
                #"{"repositoryId":"r","endpoint":"https://desk.example","authenticationType":"basic","refreshTokenExpiration":9223372036854775807}"#,
                #"{"repositoryId":"","endpoint":"https://desk.example","authenticationType":"basic"}"#,
                #"{"repositoryId":"r","endpoint":"https://desk.example","authenticationType":"basic","clientSecret":"a\u0000b"}"#,
            ]
            for body in repositories {
                let response = try await fx.send(.POST, Self.repositories, token: admin, json: body)
                #expect(response.status == .badRequest, "\(body)")
            }
        }
    }
}

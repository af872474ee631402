import Foundation
import ServerSupport
import TestSupport
import Testing
import Vapor
import VaporTesting
import WireModels

@testable import Connector

/// Who may call: tokens from the configured authority for a served tenant, with this Connector as audience,
/// inside their lifetime and with the role the endpoint needs.
@Suite struct CallerTokenTests {
    static let issues = "/" + ConnectorPath.issues
    static let check = "/" + ConnectorPath.integrationCheck

    @Test func healthNeedsAValidTokenWithTheRole() async throws {
        try await withConnector { fx in
            let ok = try await fx.get(Self.issues, token: try await fx.token(fx.healthReader))
            #expect(ok.status == .ok)

            let missing = try await fx.get(Self.issues, token: nil)
            #expect(missing.status == .unauthorized)
            #expect((missing.jsonObject["error"] as? [String: Any])?["code"] as? String == "InvalidAuthenticationToken")

            let garbage = try await fx.get(Self.issues, token: "not.a.jwt")
            #expect(garbage.status == .unauthorized)

            // A token of the desk's app: valid, but without ServiceHealth.Read.All.
            let noRole = try await fx.get(Self.issues, token: try await fx.token(fx.deskApp))
            #expect(noRole.status == .forbidden)
            let stranger = try await fx.get(Self.issues, token: try await fx.token(fx.stranger))
            #expect(stranger.status == .forbidden)
        }
    }

    @Test func refusesOtherAudiencesTenantsAndExpiredTokens() async throws {
        try await withConnector { fx in
            // Microsoft Graph's audience, not the Connector's.
            let graphToken = try await fx.token(fx.healthReader, resource: MicrosoftGraphResource.identifierURI)
            #expect(try await fx.get(Self.issues, token: graphToken).status == .unauthorized)

            // A tenant the Connector does not serve: its own problem code on the Connector's API.
            let fabrikam = try await fx.token(fx.fabrikamReader, tenant: fx.otherTenantId)
            #expect(try await fx.get(Self.issues, token: fabrikam).status == .unauthorized)
            let refused = try await fx.send(.POST, Self.check, token: fabrikam, json: "{}")
            #expect(refused.status == .unauthorized)
            #expect(refused.jsonObject["code"] as? String == ConnectorErrorCode.tenantNotRegistered.rawValue)
            #expect(refused.headers.contentType?.subType == "problem+json")
            #expect(refused.jsonObject["correlationId"] as? String != nil)

            let token = try await fx.token(fx.healthReader)
            fx.clock.advance(by: 2 * 3600)
            let expired = try await fx.get(Self.issues, token: token)
            #expect(expired.status == .unauthorized)
        }
    }

    @Test func aTamperedTokenIsRefused() async throws {
        try await withConnector { fx in
            let token = try await fx.token(fx.healthReader)
            let parts = token.split(separator: ".").map(String.init)
            let payload = try #require(Data(base64URLEncoded: parts[1]))
            var claims = try #require(JSONSerialization.jsonObject(with: payload) as? [String: Any])
            claims["roles"] = [ConnectorResource.Role.serviceHealthRead, ConnectorResource.Role.supportIntegration]
            let forged = [
                parts[0], try JSONSerialization.data(withJSONObject: claims).base64URLEncodedString(), parts[2],
            ].joined(separator: ".")
            #expect(try await fx.send(.POST, Self.check, token: forged, json: "{}").status == .unauthorized)
        }
    }

    @Test func theIntegrationCheckTellsWhatIsMissing() async throws {
        try await withConnector { fx in
            let token = try await fx.token(fx.deskApp)
            func check(_ body: String) async throws -> (HTTPStatus, String?) {
                let response = try await fx.send(.POST, Self.check, token: token, json: body)
                return (response.status, response.jsonObject["code"] as? String)
            }
            #expect(try await check("{}") == (.forbidden, ConnectorErrorCode.profileNotConfigured.rawValue))

            // Another app's ID in the profile: the desk's app is not the registered one.
            _ = try await fx.admin(
                .PATCH, "/tenants/\(fx.tenantId)/profile", json: #"{"appId":"\#(fx.stranger.appId)"}"#)
            #expect(try await check("{}") == (.forbidden, ConnectorErrorCode.appIdNotRegistered.rawValue))

            _ = try await fx.admin(
                .PATCH, "/tenants/\(fx.tenantId)/profile", json: #"{"appId":"\#(fx.deskApp.appId)"}"#)
            let insights = try await fx.send(.POST, Self.check, token: token, json: "{}")
            #expect(insights.status == .ok)
            #expect(insights.jsonObject["capabilities"] as? [String] == ["insights"])

            let basic = #"{"repositoryId":"desk-1","endpoint":"https://desk.contoso.com","authenticationType":"basic"}"#
            #expect(try await check(basic) == (.forbidden, ConnectorErrorCode.repositoryNotRegistered.rawValue))

            let added = try await fx.admin(
                .POST, "/tenants/\(fx.tenantId)/profile/repositories",
                json:
                    #"{"repositoryId":"desk-1","endpoint":"https://desk.contoso.com/","authenticationType":"basic","clientSecret":"s3cret-value","restUserName":"m365.integration","restUserPassword":"pa55-value"}"#
            )
            #expect(added.status == .created)
            #expect(!added.body.string.contains("s3cret-value") && !added.body.string.contains("pa55-value"))
            let cases = try await fx.send(.POST, Self.check, token: token, json: basic)
            #expect(cases.status == .ok)
            #expect(cases.jsonObject["capabilities"] as? [String] == ["insights", "cases"])

            let aad = #"{"repositoryId":"desk-1","endpoint":"https://other.contoso.com","authenticationType":"aad"}"#
            let mismatch = try await fx.send(.POST, Self.check, token: token, json: aad)
            #expect(mismatch.status == .conflict)
            #expect(mismatch.jsonObject["code"] as? String == ConnectorErrorCode.repositoryMismatch.rawValue)
            let detail = try #require(mismatch.jsonObject["detail"] as? String)
            #expect(detail.contains("endpoint") && detail.contains("authentication type"))

            // The health reader has no SupportIntegration role.
            let reader = try await fx.send(.POST, Self.check, token: try await fx.token(fx.healthReader), json: "{}")
            #expect(reader.status == .forbidden)
            #expect(reader.jsonObject["code"] as? String == ConnectorErrorCode.missingRole.rawValue)
        }
    }
}

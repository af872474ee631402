import Foundation
import TestSupport
import Testing
import Vapor
import VaporTesting

@testable import Connector

@Suite("The engineers' console's doors")
struct ConsolePageTests {
    @Test func withoutASupportTenantTheConsoleSaysItIsOff() async throws {
        try await withConnector { fx in
            let page = try await fx.get("/console", token: nil)
            #expect(page.status == .serviceUnavailable)
            #expect(page.body.string.contains("M365_CONNECTOR_SUPPORT_TENANT"))
            #expect(page.headers.first(name: "Content-Security-Policy")?.contains("default-src 'none'") == true)
        }
    }

    @Test func signedOutEngineersSeeTheSignInAndFormsNeedASession() async throws {
        try await withConnector(configure: { $0.supportTenant = "contoso.onmicrosoft.com" }) { fx in
            let page = try await fx.get("/console", token: nil)
            #expect(page.status == .ok)
            #expect(page.body.string.contains("id=\"sign-in\""))
            #expect(page.body.string.contains("Contoso"))
            let start = try await fx.connector.testing().sendRequest(.POST, "/console/sign-in")
            #expect(start.status == .seeOther || start.status == .found)
            #expect(start.headers.first(name: .location)?.contains("/oauth2/v2.0/authorize?") == true)
            #expect(start.headers.first(name: .location)?.contains("console%2Fsigned-in") == true)
            let post = try await fx.connector.testing().sendRequest(
                .POST, "/console/cases/SR0000001/updates",
                headers: ["Content-Type": "application/x-www-form-urlencoded"],
                body: ByteBuffer(string: "text=hi&csrf=x"))
            #expect(post.status == .unauthorized)
            #expect(try await fx.get("/console/deliveries", token: nil).status == .seeOther)
        }
    }
}

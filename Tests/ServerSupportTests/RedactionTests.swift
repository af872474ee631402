import Foundation
import Testing
import Vapor

@testable import ServerSupport

@Suite("Redaction of what the outbound HTTP log keeps")
struct RedactionTests {
    @Test func secretsGoWhereverTheyAppear() {
        let secret = "s3cr3t+/=value"
        #expect(Redaction.text("error near \(secret)!", secrets: [secret]) == "error near [redacted]!")
        let encoded = secret.addingPercentEncoding(withAllowedCharacters: .alphanumerics)!
        #expect(Redaction.text("body=\(encoded)", secrets: [secret]) == "body=[redacted]")
        // Values too short to be secrets would blank out ordinary text.
        #expect(Redaction.text("a b c", secrets: ["b", ""]) == "a b c")
    }

    @Test func credentialHeadersAndQueryValuesAreRedacted() {
        var headers = HTTPHeaders()
        headers.add(name: "Authorization", value: "Basic dXNlcjpwYXNz")
        headers.add(name: "Cookie", value: "session=abc")
        headers.add(name: "Accept", value: "application/json")
        let logged = Redaction.headers(headers, secrets: [])
        #expect(logged.contains("Authorization: [redacted]"))
        #expect(logged.contains("Cookie: [redacted]"))
        #expect(logged.contains("Accept: application/json"))
        #expect(!logged.contains("dXNlcjpwYXNz"))

        let url = Redaction.url(
            "https://user:pw@login.example.com/t/oauth2/token?client_secret=abc&access_token=xyz&api-version=1.0&code=42",
            secrets: [])
        #expect(!url.contains("abc") && !url.contains("xyz") && !url.contains("pw@") && !url.contains("=42"))
        #expect(url.contains("api-version=1.0"))
        #expect(url.hasPrefix("https://login.example.com/t/oauth2/token?"))
    }
}

import Foundation
import Testing
import WireModels

@testable import Connector

/// Which active issues a problem text points at, on the demo tenant's health.
@Suite struct RelatedIssuesTests {
    static let issues: [ServiceHealthIssue] = {
        let data = try! ConnectorDemoSeed.document(now: Date(timeIntervalSince1970: 1_800_000_000))
        let services = try! GraphDate.decoder.decode(GraphCollection<ServiceHealthOverview>.self, from: data).value
        return services.flatMap { $0.issues ?? [] }
    }()

    func ids(_ text: String, product: String? = nil) -> [String] {
        RelatedIssues.find(text: text, product: product, in: Self.issues).map(\.issue.id)
    }

    @Test func theProductOrItsEverydayWordsFindTheService() {
        #expect(ids("Cannot send email from the browser", product: "Exchange Online").first == "EX1048213")
        #expect(ids("Outlook on the web says something went wrong when I open my inbox").first == "EX1048213")
        #expect(ids("Can't join the meeting from Teams calendar").first == "TM1051207")
        #expect(ids("text message code for MFA never arrives").first == "MO1050462")
        #expect(ids("Excel hangs opening a workbook with links", product: "Microsoft 365 Apps").first == "OF1050871")
    }

    @Test func resolvedIssuesAndUnrelatedTextsFindNothing() {
        // The external mail delay is resolved: it is not offered again.
        #expect(!ids("delays receiving email from external senders").contains("EX1046990"))
        #expect(ids("The printer on floor 3 is out of toner").isEmpty)
        #expect(ids("").isEmpty)
        #expect(ids(String(repeating: "lorem ", count: 50_000)).isEmpty)
    }

    @Test func wordsAreNormalised() {
        #expect(RelatedIssues.words("Users can't OPEN Teams meetings!") == ["open", "team", "meeting"])
        #expect(RelatedIssues.words("AADSTS50074 sign-in") == ["aadsts50074", "sign-in"])
    }
}

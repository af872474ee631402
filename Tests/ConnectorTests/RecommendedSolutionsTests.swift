import Foundation
import SolutionSearch
import Synchronization
import TestSupport
import Testing
import Vapor
import VaporTesting
import WireModels

@testable import Connector

/// `POST /api/v1/recommendedSolutions` with the desk's token, and the operator's single-article changes, which
/// the search sees at once (through this instance) or at the next refresh (through another process).
@Suite struct RecommendedSolutionsTests {
    static let path = "/" + ConnectorPath.recommendedSolutions

    /// Makes the desk's app the tenant profile's App ID, as the Microsoft 365 administrator does.
    static func registerDesk(_ fx: ConnectorFixture) async throws -> String {
        let saved = try await fx.admin(
            .PATCH, "/tenants/\(fx.tenantId)/profile",
            json: #"{"supportTool":"servicenow","appId":"\#(fx.deskApp.appId)"}"#)
        #expect(saved.status == .ok, "\(saved.body.string)")
        return try await fx.token(fx.deskApp)
    }

    static func recommend(_ fx: ConnectorFixture, token: String, _ json: String) async throws -> (
        TestingHTTPResponse, RecommendedSolutions?
    ) {
        let response = try await fx.send(.POST, path, token: token, json: json)
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .iso8601
        return (response, try? decoder.decode(RecommendedSolutions.self, from: Data(response.body.readableBytesView)))
    }

    @Test func ranksArticlesMarksSnippetsAndFindsRelatedHealthIssues() async throws {
        try await withConnector { fx in
            let token = try await Self.registerDesk(fx)
            let (response, answer) = try await Self.recommend(
                fx, token: token,
                #"{"text":"Outlook keeps asking for my password. Users cannot send email in Outlook on the web since this morning.","top":3}"#
            )
            #expect(response.status == .ok, "\(response.body.string)")
            let solutions = try #require(answer?.solutions)
            #expect(solutions.count == 3)
            #expect(solutions.first?.id == "starter/outlook-repeated-password-prompts")
            #expect(solutions.first?.url.hasPrefix("https://") == true)
            #expect(zip(solutions, solutions.dropFirst()).allSatisfy { $0.score >= $1.score })
            #expect(solutions.first?.snippet.contains("<c0>") == true, "\(solutions.first?.snippet ?? "")")
            // The tenant's active Exchange issue about Outlook on the web, not the resolved one.
            let issues = try #require(answer?.serviceHealthIssues)
            #expect(issues.first?.id == "EX1048213")
            #expect(!issues.contains { $0.id == "EX1046990" })
            #expect(issues.first?.issuePath == "/v1.0/admin/serviceAnnouncement/issues/EX1048213")
            #expect(issues.first?.matchedBecause.isEmpty == false)

            // A named product leads among its articles; the default number of results is 5.
            let (_, teams) = try await Self.recommend(
                fx, token: token, #"{"text":"no record button in the meeting","product":"Microsoft Teams"}"#)
            let (_, broad) = try await Self.recommend(fx, token: token, #"{"text":"outlook teams onedrive sign in"}"#)
            #expect(broad?.solutions.count == RecommendedSolutionsRequest.defaultTop)
            #expect(teams?.solutions.first?.id == "starter/teams-no-record-button")
        }
    }

    @Test func refusesCallersAndInputItCannotServe() async throws {
        try await withConnector { fx in
            let early = try await fx.token(fx.deskApp)
            let (unconfigured, _) = try await Self.recommend(fx, token: early, #"{"text":"mail"}"#)
            #expect(unconfigured.status == .forbidden)
            #expect(unconfigured.jsonObject["code"] as? String == ConnectorErrorCode.profileNotConfigured.rawValue)

            let token = try await Self.registerDesk(fx)
            let reader = try await fx.token(fx.healthReader)
            let (noRole, _) = try await Self.recommend(fx, token: reader, #"{"text":"mail"}"#)
            #expect(noRole.status == .forbidden)
            #expect(noRole.jsonObject["code"] as? String == ConnectorErrorCode.missingRole.rawValue)
            let anonymous = try await fx.send(.POST, Self.path, token: nil, json: #"{"text":"mail"}"#)
            #expect(anonymous.status == .unauthorized)

            let long = String(repeating: "mail ", count: RecommendedSolutionsRequest.maxTextLength / 5 + 1)
            for body in [
                #"{"text":"   "}"#, #"{"text":"mail","top":0}"#, #"{"text":"mail","top":51}"#,
                #"{"text":"mail","top":1e30}"#, #"{"top":3}"#, "[]", "not json", #"{"text":"\#(long)"}"#,
            ] {
                let (refused, _) = try await Self.recommend(fx, token: token, body)
                #expect(refused.status == .badRequest, "\(body.prefix(40)): \(refused.body.string)")
                #expect(refused.headers.contentType?.subType == "problem+json")
                #expect(refused.jsonObject["code"] as? String == ConnectorErrorCode.invalidRequest.rawValue)
            }
            // Words the knowledge base has never seen: an empty answer, not an error.
            let (nothing, answer) = try await Self.recommend(fx, token: token, #"{"text":"zzqx qqzzy"}"#)
            #expect(nothing.status == .ok)
            #expect(answer?.solutions.isEmpty == true)
        }
    }

    @Test func theOperatorsChangesAreSearchedAtOnce() async throws {
        try await withConnector { fx in
            let token = try await Self.registerDesk(fx)
            let id = "contoso/kiosk/badge-printer-jams"
            let article =
                #"{"title":"Badge printer jams after the kiosk update","product":"Kiosk","url":"https://kb.example.test/badge","description":"The lobby badge printer jams.","resolution":"Reseat the ribbon."}"#
            let created = try await fx.admin(.PUT, "/knowledgeBase/articles/\(id)", json: article)
            #expect(created.status == .created, "\(created.body.string)")
            #expect(created.jsonObject["id"] as? String == id)
            #expect(created.jsonObject["retired"] as? Bool == false)
            var (_, answer) = try await Self.recommend(fx, token: token, #"{"text":"badge printer jammed","top":1}"#)
            #expect(answer?.solutions.first?.id == id)
            #expect(answer?.solutions.first?.snippet.contains("<c0>badge</c0> <c0>printer</c0>") == true)

            let replaced = try await fx.admin(
                .PUT, "/knowledgeBase/articles/\(id)",
                json: #"{"id":"\#(id)","title":"Kiosk label printer misfeeds","product":"Kiosk"}"#)
            #expect(replaced.status == .ok)
            let shown = try await fx.admin(.GET, "/knowledgeBase/articles/\(id)")
            #expect(shown.jsonObject["title"] as? String == "Kiosk label printer misfeeds")
            (_, answer) = try await Self.recommend(fx, token: token, #"{"text":"label printer misfeeds","top":1}"#)
            #expect(answer?.solutions.first?.id == id)

            let retired = try await fx.admin(.DELETE, "/knowledgeBase/articles/\(id)")
            #expect(retired.status == .ok)
            #expect(retired.jsonObject["retired"] as? Bool == true)
            (_, answer) = try await Self.recommend(fx, token: token, #"{"text":"label printer misfeeds"}"#)
            #expect(answer?.solutions.contains { $0.id == id } == false)

            #expect(try await fx.admin(.GET, "/knowledgeBase/articles/nowhere/none").status == .notFound)
            #expect(try await fx.admin(.DELETE, "/knowledgeBase/articles/nowhere").status == .notFound)
            let mismatch = try await fx.admin(
                .PUT, "/knowledgeBase/articles/\(id)", json: #"{"id":"other","title":"Other"}"#)
            #expect(mismatch.status == .badRequest)
            let untitled = try await fx.admin(.PUT, "/knowledgeBase/articles/\(id)", json: #"{"title":"  "}"#)
            #expect(untitled.status == .badRequest)
            let anonymous = try await fx.send(.GET, "/admin/api/knowledgeBase/articles/\(id)", token: nil)
            #expect(anonymous.status == .unauthorized)
        }
    }

    @Test func articleIDsInPathsAreReadAsWrittenAndCheckedLikeImports() async throws {
        try await withConnector { fx in
            // Percent-encoded slashes and spaces mean the same ID as written out.
            let encoded = try await fx.admin(
                .PUT, "/knowledgeBase/articles/a%2Fb%20c", json: #"{"title":"Encoded"}"#)
            #expect(encoded.status == .created, "\(encoded.body.string)")
            #expect(encoded.jsonObject["id"] as? String == "a/b c")
            #expect(
                try await fx.admin(.GET, "/knowledgeBase/articles/a/b%20c").jsonObject["title"] as? String == "Encoded")
            for (path, status) in [
                ("/knowledgeBase/articles/" + String(repeating: "x", count: 301), HTTPStatus.badRequest),
                ("/knowledgeBase/articles/bad%01id", .badRequest),
                ("/knowledgeBase/articles/%E2%28%A1", .badRequest),
            ] {
                let response = try await fx.admin(.PUT, path, json: #"{"title":"T"}"#)
                #expect(response.status == status, "\(path.prefix(60)): \(response.body.string)")
                #expect(response.headers.contentType?.subType == "problem+json")
            }
            #expect(try await fx.admin(.PUT, "/knowledgeBase/articles/x", json: #"{"title":1}"#).status == .badRequest)
            #expect(try await fx.admin(.PUT, "/knowledgeBase/articles/x", json: "[]").status == .badRequest)
            let bodyless = try await fx.admin(.PUT, "/knowledgeBase/articles/x")
            #expect((400..<500).contains(bodyless.status.code), "\(bodyless.body.string)")
            #expect(bodyless.headers.contentType?.subType == "problem+json")
        }
    }

    @Test func aTenantsPrivateArticleIsFoundByThatTenantAlone() async throws {
        try await withConnector { fx in
            let token = try await Self.registerDesk(fx)
            // Named by domain, stored by tenant ID.
            let mine = try await fx.admin(
                .PUT, "/knowledgeBase/articles/contoso/vpn-kiosk",
                json: #"{"title":"Contoso kiosk VPN drops every hour","tenantId":"contoso.onmicrosoft.com"}"#)
            #expect(mine.status == .created, "\(mine.body.string)")
            #expect(mine.jsonObject["tenantId"] as? String == fx.tenantId)
            let registered = try await fx.admin(
                .POST, "/tenants", json: #"{"tenantId":"\#(fx.otherTenantId)","displayName":"Fabrikam"}"#)
            #expect(registered.status == .created, "\(registered.body.string)")
            let theirs = try await fx.admin(
                .PUT, "/knowledgeBase/articles/fabrikam/vpn-kiosk",
                json: #"{"title":"Fabrikam kiosk VPN drops every hour","tenantId":"\#(fx.otherTenantId)"}"#)
            #expect(theirs.status == .created)
            let (_, answer) = try await Self.recommend(fx, token: token, #"{"text":"kiosk VPN drops every hour"}"#)
            let ids = answer?.solutions.map(\.id) ?? []
            #expect(ids.first == "contoso/vpn-kiosk")
            #expect(!ids.contains("fabrikam/vpn-kiosk"))
            // Outside any tenant (kb search, kb eval) only shared articles are searched.
            #expect(fx.connector.connector.solutions.index.search("kiosk vpn").isEmpty)

            let unknown = try await fx.admin(
                .PUT, "/knowledgeBase/articles/x/1", json: #"{"title":"T","tenantId":"nowhere.example"}"#)
            #expect(unknown.status == .notFound)
            #expect(unknown.jsonObject["code"] as? String == ConnectorErrorCode.tenantNotRegistered.rawValue)
            // An import of the shared corpus updating the articles keeps one private and the other retired.
            _ = try await fx.admin(.DELETE, "/knowledgeBase/articles/contoso/vpn-kiosk")
            _ = try await KnowledgeBase(database: fx.connector.db).importJSONLines(
                Data(
                    (#"{"id":"fabrikam/vpn-kiosk","title":"Fabrikam kiosk VPN drops, updated"}"# + "\n"
                        + #"{"id":"contoso/vpn-kiosk","title":"Contoso kiosk VPN drops, updated"}"#).utf8))
            let kept = try await fx.admin(.GET, "/knowledgeBase/articles/fabrikam/vpn-kiosk")
            #expect(kept.jsonObject["tenantId"] as? String == fx.otherTenantId)
            #expect(kept.jsonObject["title"] as? String == "Fabrikam kiosk VPN drops, updated")
            let retired = try await fx.admin(.GET, "/knowledgeBase/articles/contoso/vpn-kiosk")
            #expect(retired.jsonObject["retired"] as? Bool == true)
            #expect(retired.jsonObject["title"] as? String == "Contoso kiosk VPN drops, updated")
        }
    }

    @Test func changesMadeByAnotherProcessAreSearchedAfterTheNextRefresh() async throws {
        try await withConnector { fx in
            let catalog = fx.connector.connector.solutions
            let before = catalog.index.count
            // As `m365-support kb put` does, in another process: straight into the database.
            _ = try await KnowledgeBase(database: fx.connector.db, now: fx.clock.provider).save(
                KnowledgeArticle(id: "elsewhere/1", title: "Elsewhere written article about fax gateways"))
            #expect(catalog.index.count == before)
            await fx.connector.connector.jobs.runDue(fx.connector)
            #expect(catalog.index.count == before + 1)
            #expect(catalog.index.search("fax gateway").first?.id == "elsewhere/1")
            // Nothing changed: no rebuild.
            fx.clock.advance(by: SolutionCatalog.refreshInterval + 1)
            #expect(
                try await catalog.refresh(
                    from: fx.connector.knowledgeBase(fx.connector.db), logger: fx.connector.logger) == false)
        }
    }

    @Test func refreshesAskedAtOnceRunOneAfterAnotherAndAllReturn() async throws {
        try await withConnector { fx in
            let catalog = fx.connector.connector.solutions
            let knowledgeBase = fx.connector.knowledgeBase(fx.connector.db)
            let before = catalog.index.count
            // Sixteen refreshes at once while articles are written one after another: each returns, none overlaps
            // another, and the last change is indexed. (A queue that re-read "the running build" once spun here for
            // ever.)
            let finished = TaskCounter()
            let all = Task {
                try await withThrowingTaskGroup(of: Void.self) { group in
                    group.addTask {
                        for number in 0..<16 {
                            _ = try await KnowledgeBase(database: fx.connector.db).save(
                                KnowledgeArticle(id: "burst/\(number)", title: "Burst article \(number) about plotters")
                            )
                        }
                    }
                    for _ in 0..<16 {
                        group.addTask {
                            _ = try await catalog.refresh(from: knowledgeBase, logger: fx.connector.logger)
                            finished.increment()
                        }
                    }
                    try await group.waitForAll()
                }
            }
            let done = try await poll(timeout: .seconds(60)) { finished.value == 16 }
            #expect(done, "\(finished.value) of 16 refreshes returned")
            if !done { all.cancel() }
            try await all.value
            _ = try await catalog.refresh(from: knowledgeBase, logger: fx.connector.logger)
            #expect(catalog.index.count == before + 16)
        }
    }
}

/// A counter several tasks raise.
final class TaskCounter: Sendable {
    private let count = Mutex(0)
    var value: Int { count.withLock { $0 } }
    func increment() { count.withLock { $0 += 1 } }
}

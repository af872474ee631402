import Foundation
import ServerSupport
import TestSupport
import Testing
import Vapor
import VaporTesting
import WireModels

@testable import Connector

/// Graph's service communications API over the demo tenant's health: shapes, OData options, paging, errors.
@Suite struct ServiceHealthAPITests {
    static let issues = "/" + ConnectorPath.issues
    static let overviews = "/" + ConnectorPath.healthOverviews

    func ids(_ response: TestingHTTPResponse) -> [String] {
        (response.jsonObject["value"] as? [[String: Any]] ?? []).compactMap { $0["id"] as? String }
    }

    func query(_ options: [String: String]) -> String {
        var components = URLComponents()
        components.queryItems = options.sorted { $0.key < $1.key }.map { URLQueryItem(name: $0.key, value: $0.value) }
        return "?" + (components.percentEncodedQuery ?? "")
    }

    @Test func issuesInGraphsShape() async throws {
        try await withConnector { fx in
            let token = try await fx.token(fx.healthReader)
            let list = try await fx.get(Self.issues, token: token)
            #expect(list.status == .ok)
            #expect(
                (list.jsonObject["@odata.context"] as? String)?.hasSuffix("$metadata#admin/serviceAnnouncement/issues")
                    == true)
            #expect(ids(list).count == 9)
            #expect(list.jsonObject["@odata.nextLink"] == nil)

            let one = try await fx.get(Self.issues + "/EX1048213", token: token)
            #expect(one.status == .ok)
            let issue = one.jsonObject
            #expect(issue["classification"] as? String == "incident")
            #expect(issue["status"] as? String == "serviceDegradation")
            #expect(issue["isResolved"] as? Bool == false)
            let posts = try #require(issue["posts"] as? [[String: Any]])
            #expect(posts.count == 3)
            #expect((posts[0]["description"] as? [String: Any])?["contentType"] as? String == "html")
            let modified = try #require(issue["lastModifiedDateTime"] as? String)
            #expect(modified.hasSuffix("Z") && GraphDate.parse(modified) != nil)

            // Graph's SDK sends `//v1.0/…` when its base URL comes from the HTTP client.
            let doubled = try await fx.get("/" + Self.issues + "/EX1048213", token: token)
            #expect(doubled.status == .ok)

            let missing = try await fx.get(Self.issues + "/XX0000", token: token)
            #expect(missing.status == .notFound)
            #expect((missing.jsonObject["error"] as? [String: Any])?["code"] as? String == "NotFound")
        }
    }

    @Test func filtersOnEveryDocumentedProperty() async throws {
        try await withConnector { fx in
            let token = try await fx.token(fx.healthReader)
            func filter(_ text: String) async throws -> [String] {
                let response = try await fx.get(Self.issues + query(["$filter": text]), token: token)
                #expect(response.status == .ok, "\(text): \(response.body.string)")
                return ids(response).sorted()
            }
            #expect(try await filter("service eq 'Exchange Online'") == ["EX1046990", "EX1048213"])
            #expect(try await filter("isResolved eq false").count == 5)
            #expect(
                try await filter("isResolved eq false and classification eq 'Advisory'") == ["OF1050871", "SP1049875"])
            #expect(
                try await filter("status eq 'serviceRestored' or status eq 'POSTINCIDENTREVIEWPUBLISHED'").count == 4)
            #expect(try await filter("not (isResolved eq true) and service ne 'Exchange Online'").count == 4)
            #expect(try await filter("(service eq 'Planner')") == [])
            #expect(
                try await filter("contains(title,'teams') or startswith(service,'share')") == [
                    "SP1049875", "TM1051207",
                ])

            let all = try await fx.get(Self.issues + query(["$orderby": "lastModifiedDateTime desc"]), token: token)
            let newest = try #require((all.jsonObject["value"] as? [[String: Any]])?.first)
            let stamp = try #require(newest["lastModifiedDateTime"] as? String)
            #expect(try await filter("lastModifiedDateTime ge \(stamp)") == [newest["id"] as? String].compactMap { $0 })
            #expect(try await filter("lastModifiedDateTime gt \(stamp)") == [])
            #expect(try await filter("startDateTime lt 2000-01-01T00:00:00Z") == [])
            #expect(try await filter("endDateTime eq null").count == 5)
        }
    }

    @Test func ordersSelectsAndPages() async throws {
        try await withConnector { fx in
            let token = try await fx.token(fx.healthReader)
            let ordered = try await fx.get(
                Self.issues + query(["$orderby": "service asc,lastModifiedDateTime desc", "$select": "id,service"]),
                token: token)
            let rows = try #require(ordered.jsonObject["value"] as? [[String: Any]])
            let services = rows.compactMap { $0["service"] as? String }
            #expect(services == services.sorted())
            #expect(Set(rows.flatMap(\.keys)) == ["id", "service"])

            // Paging with the server's page size: follow @odata.nextLink verbatim until it is gone.
            var seen: [String] = []
            var next: String? = Self.issues + query(["$orderby": "id"])
            var pages = 0
            while let link = next, pages < 10 {
                let page = try await fx.get(
                    link.replacingOccurrences(of: "https://connector.test", with: ""), token: token,
                    headers: ["Prefer": "odata.maxpagesize=4"])
                #expect(page.headers.first(name: "Preference-Applied") == "odata.maxpagesize=4")
                seen += ids(page)
                next = page.jsonObject["@odata.nextLink"] as? String
                if let next { #expect(next.hasPrefix("https://connector.test/v1.0/admin/serviceAnnouncement/issues?")) }
                pages += 1
            }
            #expect(pages == 3)
            #expect(seen == seen.sorted() && Set(seen).count == 9)

            let topped = try await fx.get(
                Self.issues + query(["$top": "2", "$skip": "8", "$count": "true"]), token: token)
            #expect(ids(topped).count == 1)
            #expect(topped.jsonObject["@odata.count"] as? Int == 9)
            #expect(topped.jsonObject["@odata.nextLink"] == nil)
            #expect(ids(try await fx.get(Self.issues + query(["$skip": "1000000"]), token: token)) == [])
            #expect(ids(try await fx.get(Self.issues + query(["$top": "0"]), token: token)) == [])
        }
    }

    @Test func unsupportedOrMalformedOptionsAreGraphErrors() async throws {
        try await withConnector { fx in
            let token = try await fx.token(fx.healthReader)
            let refused: [[String: String]] = [
                ["$search": "mail"], ["$expand": "posts"], ["$format": "json"], ["$top": "1001"], ["$top": "-1"],
                ["$skip": "99999999999999999999"], ["$filter": "details eq 'x'"], ["$filter": "unknown eq 1"],
                ["$filter": "isResolved eq 'yes'"], ["$filter": "service eq 'unterminated"],
                ["$filter": "lastModifiedDateTime ge yesterday"], ["$filter": "(service eq 'A'"],
                [
                    "$filter": String(repeating: "(", count: 200) + "isResolved eq true"
                        + String(repeating: ")", count: 200)
                ],
                ["$filter": Array(repeating: "isResolved eq true", count: 150).joined(separator: " or ")],
                ["$orderby": "posts"], ["$orderby": "title sideways"], ["$select": "nonsense"], ["$count": "maybe"],
                ["$filter": ""],
            ]
            for options in refused {
                let response = try await fx.get(Self.issues + query(options), token: token)
                #expect(response.status == .badRequest, "\(options)")
                let error = response.jsonObject["error"] as? [String: Any]
                #expect(error?["code"] as? String == "BadRequest", "\(options)")
                #expect((error?["message"] as? String)?.isEmpty == false)
            }
            let twice = try await fx.get(Self.issues + "?$top=1&$top=2", token: token)
            #expect(twice.status == .badRequest)
            // Non-system parameters are not OData options: ignored, as Graph does.
            #expect(try await fx.get(Self.issues + "?api-version=1", token: token).status == .ok)
        }
    }

    @Test func healthOverviewsWithAndWithoutIssues() async throws {
        try await withConnector { fx in
            let token = try await fx.token(fx.healthReader)
            let list = try await fx.get(Self.overviews, token: token)
            let services = try #require(list.jsonObject["value"] as? [[String: Any]])
            #expect(services.count == 10)
            #expect(services.allSatisfy { $0["issues"] == nil })
            let exchange = try #require(services.first { $0["id"] as? String == "Exchange" })
            #expect(exchange["service"] as? String == "Exchange Online")
            #expect(exchange["status"] as? String == "serviceDegradation")

            let expanded = try await fx.get(
                Self.overviews + query(["$expand": "issues", "$filter": "status ne 'serviceOperational'"]), token: token
            )
            let withIssues = try #require(expanded.jsonObject["value"] as? [[String: Any]])
            #expect(withIssues.count == 6)
            #expect(withIssues.allSatisfy { ($0["issues"] as? [Any]) != nil })

            for key in ["Microsoft%20Teams", "microsoftteams"] {
                let one = try await fx.get(Self.overviews + "/\(key)?$expand=issues", token: token)
                #expect(one.status == .ok)
                #expect(((one.jsonObject["issues"] as? [[String: Any]])?.first?["id"] as? String) == "TM1051207")
            }
            #expect(try await fx.get(Self.overviews + "/Nope", token: token).status == .notFound)
        }
    }

    @Test func theSupportTeamPublishesUpdatesAndResolves() async throws {
        try await withConnector { fx in
            let tenant = "/tenants/contoso.onmicrosoft.com/health"
            let published = try await fx.admin(
                .POST, tenant + "/issues",
                json:
                    #"{"title":"Users can't open Planner boards","service":"Planner","impactDescription":"Boards fail to load.","classification":"incident"}"#
            )
            #expect(published.status == .created, "\(published.body.string)")
            let id = try #require(published.jsonObject["id"] as? String)
            #expect(id.hasPrefix("PL"))
            #expect((published.jsonObject["posts"] as? [Any])?.count == 1)

            let token = try await fx.token(fx.healthReader)
            let planner = try await fx.get(Self.overviews + "/Planner", token: token)
            #expect(planner.jsonObject["status"] as? String == "investigating")

            fx.clock.advance(by: 60)
            let updated = try await fx.admin(
                .POST, tenant + "/issues/\(id)/posts",
                json: #"{"message":"We found the cause.","status":"restoringService"}"#)
            #expect(updated.jsonObject["status"] as? String == "restoringService")
            #expect((updated.jsonObject["posts"] as? [Any])?.count == 2)

            fx.clock.advance(by: 60)
            let resolved = try await fx.admin(.POST, tenant + "/issues/\(id)/resolve", json: "{}")
            #expect(resolved.jsonObject["isResolved"] as? Bool == true)
            #expect(resolved.jsonObject["endDateTime"] as? String != nil)
            #expect(
                try await fx.get(Self.overviews + "/Planner", token: token).jsonObject["status"] as? String
                    == "serviceOperational")

            let bad = try await fx.admin(.POST, tenant + "/issues/\(id)/resolve", json: #"{"status":"investigating"}"#)
            #expect(bad.status == .badRequest)
            let unknown = try await fx.admin(.POST, tenant + "/issues/NOPE1/posts", json: #"{"message":"x"}"#)
            #expect(unknown.status == .notFound)
            #expect(try await fx.send(.POST, "/admin/api/tenants", token: "wrong", json: "{}").status == .unauthorized)
        }
    }

    @Test func importKeepsUnknownEnumValuesAndRefusesBadItemsWhole() async throws {
        try await withConnector { fx in
            let tenant = "/tenants/\(fx.tenantId)/health/import"
            let document = """
                {"value":[{"id":"EX9","title":"Future status","service":"Exchange Online","classification":"Incident",
                 "origin":"Microsoft","status":"SomethingNewer","isResolved":false,
                 "lastModifiedDateTime":"2026-11-30T10:00:00.1234567Z","startDateTime":"2026-11-30T09:00:00Z",
                 "posts":[{"createdDateTime":"2026-11-30T10:00:00Z","postType":"Regular",
                           "description":{"contentType":"Html","content":"<p>x</p>"}}],
                 "details":[{"name":"NotifyInApp","value":"True"}],"highImpact":null}]}
                """
            let imported = try await fx.admin(.POST, tenant, json: document)
            #expect(imported.status == .ok, "\(imported.body.string)")
            let token = try await fx.token(fx.healthReader)
            let issue = try await fx.get(Self.issues + "/EX9", token: token).jsonObject
            #expect(issue["status"] as? String == "SomethingNewer")
            #expect(issue["classification"] as? String == "incident")
            #expect(((issue["posts"] as? [[String: Any]])?.first?["postType"] as? String) == "regular")
            #expect(issue["lastModifiedDateTime"] as? String == "2026-11-30T10:00:00.123Z")

            let half =
                #"[{"id":"OK1","title":"Fine","service":"Exchange Online"},{"id":"BAD 2","title":"x","service":"y"}]"#
            let refused = try await fx.admin(.POST, tenant, json: half)
            #expect(refused.status == .badRequest)
            #expect((refused.jsonObject["detail"] as? String ?? "").contains("Item 2"))
            #expect(try await fx.get(Self.issues + "/OK1", token: token).status == .notFound)
        }
    }
}

import Foundation
import ServerSupport
import Testing
import Vapor

@testable import ServiceDesk

/// The Table API on PostgreSQL (when `M365_TEST_POSTGRES_DESK_URL` is set): queries, numbers, updates, deletes.
@Suite("Desk on PostgreSQL", .serialized)
struct DeskPostgresTests {
    static let url = ProcessInfo.processInfo.environment["M365_TEST_POSTGRES_DESK_URL"].flatMap {
        $0.isEmpty ? nil : $0
    }

    @Test(.enabled(if: url != nil, "set M365_TEST_POSTGRES_DESK_URL to run against PostgreSQL"))
    func tableAPIWorksOnPostgres() async throws {
        try await withDesk(database: .postgres(url: Self.url!)) { app, fx in
            for index in 0..<3 {
                let res = try await app.table(
                    .POST, "incident", as: "agent",
                    json: ["short_description": "Teams %_ issue \(index)", "impact": 1, "caller_id": fx.callerId])
                #expect(res.status == .created, "\(res.body.string)")
            }
            let query = "short_descriptionLIKEteams %_^ORDERBYDESCnumber".addingPercentEncoding(
                withAllowedCharacters: .alphanumerics)!
            let list = try await app.table(
                .GET, "incident?sysparm_query=\(query)&sysparm_limit=2&sysparm_display_value=all", as: "agent")
            #expect(list.status == .ok, "\(list.body.string)")
            #expect(list.headers.first(name: "X-Total-Count") == "3")
            let numbers = list.results.compactMap { ($0["number"] as? [String: String])?["value"] }
            #expect(numbers == ["INC0010003", "INC0010002"])
            let id = try #require((list.results.first?["sys_id"] as? [String: String])?["value"])
            let resolved = try await app.table(.PATCH, "incident/\(id)", as: "agent", json: ["state": "6"])
            #expect((resolved.result["resolved_at"] as? String)?.isEmpty == false)
            #expect(try await app.table(.DELETE, "incident/\(id)", as: "admin.user").status == .noContent)
            let users = try await app.table(
                .GET, "sys_user?sysparm_query=active=true^user_nameINagent,caller", as: "caller")
            #expect(users.results.count == 2)
        }
    }
}

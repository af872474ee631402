import Foundation
import TestSupport
import Testing
import Vapor
import VaporTesting

@testable import ServiceDesk

@Suite("ServiceNow Table API")
struct TableAPITests {
    func createIncidents(_ app: Application, _ fx: DeskFixture, count: Int) async throws -> [[String: Any]] {
        var created: [[String: Any]] = []
        for index in 0..<count {
            let res = try await app.table(
                .POST, "incident", as: "agent",
                json: [
                    "short_description": "Outlook problem \(index)", "impact": index % 3 + 1, "urgency": "2",
                    "caller_id": fx.callerId, "category": index.isMultiple(of: 2) ? "software" : "network",
                ])
            #expect(res.status == .created, "\(res.body.string)")
            created.append(res.result)
        }
        return created
    }

    @Test func createdIncidentsGetNumbersPriorityAndSystemFields() async throws {
        try await withDesk { app, fx in
            let first = try await createIncidents(app, fx, count: 2)
            #expect(first.map { $0["number"] as? String } == ["INC0010001", "INC0010002"])
            #expect(first[0]["priority"] as? String == "2")
            #expect(first[0]["state"] as? String == "1")
            #expect(first[0]["sys_created_by"] as? String == "agent")
            #expect((first[0]["sys_id"] as? String)?.count == 32)
            #expect(first[0]["opened_at"] as? String == first[0]["sys_created_on"] as? String)
            let caller = first[0]["caller_id"] as? [String: String]
            #expect(caller?["value"] == fx.callerId)
            #expect(caller?["link"] == "\(DeskFixture.baseURL)/api/now/table/sys_user/\(fx.callerId)")
        }
    }

    @Test func listPagesWithTotalCountAndLinkHeaders() async throws {
        try await withDesk { app, fx in
            _ = try await createIncidents(app, fx, count: 5)
            let page = try await app.table(
                .GET, "incident?sysparm_limit=2&sysparm_offset=2&sysparm_fields=number", as: "agent")
            #expect(page.status == .ok)
            #expect(page.headers.first(name: "X-Total-Count") == "5")
            #expect(page.results.map { $0["number"] as? String } == ["INC0010003", "INC0010004"])
            #expect(page.results.first?.keys.sorted() == ["number"])
            let link = try #require(page.headers.first(name: .link))
            for rel in ["first", "prev", "next", "last"] { #expect(link.contains("rel=\"\(rel)\"")) }
            #expect(link.contains("sysparm_offset=4>;rel=\"last\""))
        }
    }

    @Test func encodedQueriesFilterAndOrder() async throws {
        try await withDesk { app, fx in
            _ = try await createIncidents(app, fx, count: 6)
            func numbers(_ query: String) async throws -> [String] {
                let encoded = query.addingPercentEncoding(withAllowedCharacters: .alphanumerics)!
                let res = try await app.table(
                    .GET, "incident?sysparm_fields=number&sysparm_query=\(encoded)", as: "agent")
                #expect(res.status == .ok, "\(query)")
                return res.results.compactMap { $0["number"] as? String }
            }
            #expect(
                try await numbers("category=network^ORDERBYDESCnumber") == ["INC0010006", "INC0010004", "INC0010002"])
            let orResult = try await numbers("impact=1^ORimpact=3^category=software")
            #expect(orResult == ["INC0010001", "INC0010003"])
            #expect(try await numbers("short_descriptionLIKEoutlook PROBLEM 5") == ["INC0010006"])
            #expect(
                try await numbers("numberSTARTSWITHINC001000^numberIN INC0010002,INC0010003") == [
                    "INC0010002", "INC0010003",
                ])
            #expect(try await numbers("impact!=1^assigned_toISEMPTY").count == 4)
            #expect(try await numbers("priority<=2").count == 2)
        }
    }

    @Test(arguments: ["stateBETWEEN1@2", "nope=1", "^ORstate=1", "caller_id.user_name=caller", "impact=high"])
    func malformedQueriesAre400InTheEnvelope(query: String) async throws {
        try await withDesk { app, _ in
            let encoded = query.addingPercentEncoding(withAllowedCharacters: .alphanumerics)!
            let res = try await app.table(.GET, "incident?sysparm_query=\(encoded)", as: "agent")
            #expect(res.status == .badRequest)
            #expect(res.object["status"] as? String == "failure")
            #expect(res.errorMessage == "Invalid query")
        }
    }

    @Test func referencesMayBeSetByDisplayValueOrUserID() async throws {
        try await withDesk { app, fx in
            let byName = try await app.table(
                .POST, "incident", as: "agent", json: ["short_description": "By name", "caller_id": "Caller Test"])
            #expect((byName.result["caller_id"] as? [String: String])?["value"] == fx.callerId)
            let byUserID = try await app.table(
                .POST, "incident", as: "agent", json: ["short_description": "By user ID", "assigned_to": "agent"])
            #expect((byUserID.result["assigned_to"] as? [String: String])?["value"] == fx.agentId)
            let unknown = try await app.table(
                .POST, "incident", as: "agent", json: ["short_description": "Nobody", "caller_id": "No Such Person"])
            #expect(unknown.status == .badRequest)
            #expect(unknown.errorMessage == "Invalid value for field 'caller_id'")
        }
    }

    @Test func displayValuesShowChoiceLabelsAndReferenceNames() async throws {
        try await withDesk { app, fx in
            _ = try await createIncidents(app, fx, count: 1)
            let display = try await app.table(.GET, "incident?sysparm_display_value=true", as: "agent").results[0]
            #expect(display["state"] as? String == "New")
            #expect(display["priority"] as? String == "2 - High")
            #expect((display["caller_id"] as? [String: String])?["display_value"] == "Caller Test")
            let both = try await app.table(
                .GET, "incident?sysparm_display_value=all&sysparm_exclude_reference_link=true", as: "agent"
            ).results[0]
            #expect(both["impact"] as? [String: String] == ["display_value": "1 - High", "value": "1"])
            #expect(both["caller_id"] as? [String: String] == ["display_value": "Caller Test", "value": fx.callerId])
            // pysnow sends Python's booleans: `True`, `False`.
            let pysnowStyle = try await app.table(
                .GET,
                "incident?sysparm_display_value=False&sysparm_exclude_reference_link=True"
                    + "&sysparm_suppress_pagination_header=True&sysparm_fields=&sysparm_view=",
                as: "agent")
            #expect(pysnowStyle.results[0]["caller_id"] as? String == fx.callerId)
            #expect(pysnowStyle.results[0]["number"] != nil)
            #expect(pysnowStyle.headers.first(name: .link) == nil)
            // `+` is a space in a query string; a stray `%` stays a literal `%`, as servlet containers read it.
            let plus = try await app.table(
                .GET, "incident?sysparm_query=short_descriptionLIKEproblem+0", as: "agent")
            #expect(plus.results.count == 1)
            let stray = try await app.table(.GET, "incident?sysparm_query=short_descriptionLIKE100%", as: "agent")
            #expect(stray.status == .ok)
            #expect(stray.results.isEmpty)
        }
    }

    @Test func stateChangesStampResolveAndCloseTimesAndReopenClearsThem() async throws {
        try await withDesk { app, fx in
            let id = try #require(try await createIncidents(app, fx, count: 1)[0]["sys_id"] as? String)
            let resolved = try await app.table(
                .PATCH, "incident/\(id)", as: "agent", json: ["state": "6", "close_code": "Solved"])
            #expect(resolved.result["state"] as? String == "6")
            #expect((resolved.result["resolved_at"] as? String)?.isEmpty == false)
            #expect(resolved.result["active"] as? String == "false")
            #expect(resolved.result["resolved_by"] as? [String: String] != nil)
            #expect(try await app.table(.GET, "incident?sysparm_query=active=true", as: "agent").results.isEmpty)
            let reopened = try await app.table(.PUT, "incident/\(id)", as: "agent", json: ["state": 2, "impact": "3"])
            #expect(reopened.result["resolved_at"] as? String == "")
            #expect(reopened.result["resolved_by"] as? String == "")
            #expect(reopened.result["active"] as? String == "true")
            #expect((reopened.result["opened_by"] as? [String: String])?["value"] == fx.agentId)
            #expect(reopened.result["priority"] as? String == "4")
        }
    }

    @Test func rolesDecideWhoReadsWritesAndDeletes() async throws {
        try await withDesk { app, fx in
            let id = try #require(try await createIncidents(app, fx, count: 1)[0]["sys_id"] as? String)
            #expect(try await app.table(.GET, "incident", as: "insights").status == .ok)
            let refused = try await app.table(.POST, "incident", as: "insights", json: ["short_description": "x"])
            #expect(refused.status == .forbidden)
            #expect(refused.errorMessage == "User Not Authorized")
            #expect(try await app.table(.GET, "incident", as: "caller").status == .forbidden)
            #expect(
                try await app.table(.POST, "incident", as: "integration", json: ["short_description": "from the API"])
                    .status == .created)
            #expect(try await app.table(.DELETE, "incident/\(id)", as: "agent").status == .forbidden)
            #expect(try await app.table(.DELETE, "incident/\(id)", as: "admin.user").status == .noContent)
            #expect(try await app.table(.GET, "incident/\(id)", as: "agent").status == .notFound)
            #expect(try await app.table(.POST, "sys_user", as: "agent", json: ["user_name": "x"]).status == .forbidden)
        }
    }

    @Test func authenticationFailuresUseTheEnvelope() async throws {
        try await withDesk { app, _ in
            let none = try await app.table(.GET, "incident", as: nil)
            #expect(none.status == .unauthorized)
            #expect(none.errorMessage == "User Not Authenticated")
            #expect(none.headers.first(name: .wwwAuthenticate)?.hasPrefix("Basic") == true)
            var wrong = HTTPHeaders()
            wrong.basicAuthorization = BasicAuthorization(username: "agent", password: "wrong")
            #expect(
                try await app.testing().sendRequest(.GET, "/api/now/table/incident", headers: wrong).status
                    == .unauthorized)
        }
    }

    @Test func usersCreatedByAnAdminSignInAndNeverShowTheirPassword() async throws {
        try await withDesk { app, _ in
            let created = try await app.table(
                .POST, "sys_user", as: "admin.user",
                json: [
                    "user_name": "new.agent", "first_name": "New", "last_name": "Agent",
                    "user_password": "S3cret-pass!",
                ])
            #expect(created.status == .created)
            #expect(created.result["name"] as? String == "New Agent")
            #expect(created.result["user_password"] == nil)
            #expect(!created.body.string.contains("S3cret-pass!"))
            var headers = HTTPHeaders()
            headers.basicAuthorization = BasicAuthorization(username: "new.agent", password: "S3cret-pass!")
            #expect(
                try await app.testing().sendRequest(.GET, "/api/now/table/sys_user", headers: headers).status == .ok)
        }
    }

    @Test func badRequestsAreClearFailures() async throws {
        try await withDesk { app, fx in
            #expect(try await app.table(.GET, "incident?sysparm_offset=-1", as: "agent").errorMessage == "offset is -1")
            #expect(try await app.table(.GET, "nope", as: "agent").errorMessage == "Invalid table nope")
            #expect(try await app.table(.GET, "incident/not-a-sys-id", as: "agent").status == .notFound)
            let badJSON = try await app.testing().sendRequest(
                .POST, "/api/now/table/incident",
                headers: DeskFixture.basic("agent").merging(["Content-Type": "application/json"]),
                body: ByteBuffer(string: "{not json"))
            #expect(badJSON.status == .badRequest)
            let badValue = try await app.table(.POST, "incident", as: "agent", json: ["impact": "high"])
            #expect(badValue.status == .badRequest)
            let badReference = try await app.table(
                .POST, "incident", as: "agent", json: ["caller_id": String(repeating: "a", count: 32)])
            #expect(badReference.status == .badRequest)
            #expect(try await app.table(.PATCH, "incident/\(fx.callerId)", as: "agent", json: [:]).status == .notFound)
            let duplicate = try await app.table(.POST, "sys_user", as: "admin.user", json: ["user_name": "agent"])
            #expect(duplicate.status == .badRequest)
            #expect(duplicate.errorMessage == "Operation Failed")
        }
    }

    @Test func workNotesAndCommentsAreJournalEntries() async throws {
        try await withDesk { app, fx in
            let created = try await app.table(
                .POST, "incident", as: "agent",
                json: [
                    "short_description": "Teams down", "caller_id": fx.callerId, "work_notes": "Checked service health",
                ])
            let id = try #require(created.result["sys_id"] as? String)
            #expect(created.result["work_notes"] as? String == "")
            _ = try await app.table(.PATCH, "incident/\(id)", as: "agent", json: ["comments": "We are on it"])
            _ = try await app.table(
                .PATCH, "incident/\(id)", as: "agent", json: ["work_notes": "Opened a Microsoft case"])

            let shown = try await app.table(.GET, "incident/\(id)?sysparm_display_value=true", as: "agent").result
            let notes = try #require(shown["work_notes"] as? String)
            #expect(notes.contains("agent (Work notes)\nChecked service health"))
            #expect(notes.contains("agent (Work notes)\nOpened a Microsoft case"))
            #expect((shown["comments"] as? String)?.contains("(Additional comments)\nWe are on it") == true)

            let journal = try await app.table(.GET, "sys_journal_field?sysparm_query=element_id=\(id)", as: "agent")
            #expect(journal.headers.first(name: "X-Total-Count") == "3")
            let refused = try await app.table(.GET, "incident?sysparm_query=work_notesLIKEhealth", as: "agent")
            #expect(refused.status == .badRequest)
        }
    }
}

extension HTTPHeaders {
    func merging(_ other: HTTPHeaders) -> HTTPHeaders {
        var merged = self
        for (name, value) in other { merged.replaceOrAdd(name: name, value: value) }
        return merged
    }
}

@Suite("The one write path: RecordService")
struct RecordServiceTests {
    struct Rollback: Error {}

    @Test func aFailedTransactionLeavesNothingBehind() async throws {
        try await withDesk { app, _ in
            let service = RecordService(app: app, by: "admin.user")
            await #expect(throws: Rollback.self) {
                try await service.transaction { writer in
                    _ = try await writer.insert(
                        DeskTables.user, .init(["user_name": "half.made", "user_password": "Passw0rd!long"]))
                    throw Rollback()
                }
            }
            let found = try await app.table(.GET, "sys_user?sysparm_query=user_name=half.made", as: "admin.user")
            #expect(found.results.isEmpty)
            // A duplicate inside a transaction rolls back the rows before it too.
            await #expect(throws: DeskError.self) {
                try await service.transaction { writer in
                    _ = try await writer.insert(DeskTables.role, .init(["name": "x_new_role"]))
                    _ = try await writer.insert(DeskTables.role, .init(["name": "x_new_role"]))
                }
            }
            let roles = try await app.table(.GET, "sys_user_role?sysparm_query=name=x_new_role", as: "admin.user")
            #expect(roles.results.isEmpty)
        }
    }

    @Test func changingUsersForgetsRememberedCredentials() async throws {
        try await withDesk { app, _ in
            #expect(try await app.table(.GET, "incident", as: "agent").status == .ok)
            let agent = try #require(
                try await app.table(.GET, "sys_user?sysparm_query=user_name=agent", as: "admin.user").results.first?[
                    "sys_id"] as? String)
            _ = try await RecordService(app: app, by: "admin.user").update(
                DeskTables.user, agent, .init(["active": false]))
            // Remembered for a minute before; the change makes the next request check again.
            #expect(try await app.table(.GET, "incident", as: "agent").status == .unauthorized)
        }
    }
}

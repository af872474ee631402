import Fluent
import Foundation
import SQLKit
import ServerSupport
import Vapor

/// Fills a desk with a real desk's volume for load tests (`m365-support desk seed`): users (a tenth of them agents
/// with the itil role) and incidents with realistic values — states, priorities, categories, callers, assignees,
/// dates over two years, work notes on a share of them. Rows go in by batches of multi-row INSERTs, each batch in
/// one transaction, numbers taken from the desk's counter a batch at a time; a seeded random source makes two runs
/// alike. Seeded users cannot sign in (their password hash is of a random password nobody keeps).
package struct DeskLoadSeed: Sendable {
    package struct Report: Sendable, Encodable {
        package var users = 0
        package var incidents = 0
        package var workNotes = 0
        package var seconds = 0.0
    }

    package let app: Application

    package init(app: Application) { self.app = app }

    static let batch = 500

    static let firstNames = [
        "Ada", "Ben", "Chloé", "Dmitri", "Emma", "Farid", "Grace", "Hiro", "Ines", "Jonas", "Kwame", "Lena", "Mateo",
        "Nora", "Omar", "Priya", "Quentin", "Rosa", "Sven", "Tariq", "Uma", "Viktor", "Wen", "Yara", "Zoë",
    ]
    static let lastNames = [
        "Andersen", "Bianchi", "Chen", "Dubois", "Eriksen", "Fischer", "García", "Hansen", "Ivanova", "Jensen",
        "Kowalski", "Larsen", "Müller", "Nakamura", "Okafor", "Petrov", "Quinn", "Rossi", "Silva", "Tanaka",
        "Usman", "Varga", "Weber", "Xu", "Yilmaz", "Zimmermann",
    ]
    static let problems: [(String, String, String)] = [
        ("Outlook keeps asking for password", "software", "Outlook prompts for credentials every few minutes."),
        ("Cannot join Teams meeting", "software", "Joining from the browser fails with 'We couldn't connect you'."),
        ("Emails to external partners delayed", "network", "Messages to partners arrive hours late."),
        ("OneDrive not syncing", "software", "The sync client shows a red cross and files stay pending."),
        ("SharePoint site access denied", "inquiry", "The team site answers 'Access denied' since yesterday."),
        ("VPN disconnects every hour", "network", "The VPN drops and needs a new sign-in."),
        ("Laptop battery drains fast", "hardware", "The battery lasts two hours instead of eight."),
        ("Printer on floor 3 offline", "hardware", "Jobs stay queued; the printer shows offline."),
        ("MFA prompt never arrives", "software", "The Authenticator app receives no sign-in request."),
        ("Shared mailbox missing in Outlook", "software", "The shared mailbox disappeared from the folder list."),
        ("Excel crashes when opening large file", "software", "Excel closes while opening a 40 MB workbook."),
        ("New starter needs accounts", "inquiry", "Accounts and licences for a new colleague starting Monday."),
    ]
    /// States with their share in percent: many closed, some in progress, few on hold.
    static let states: [(state: Int, share: Int)] = [(1, 15), (2, 25), (3, 5), (6, 20), (7, 33), (8, 2)]

    /// Seeds `users` users then `incidents` incidents (a `journalShare` of them with one to three work notes),
    /// calling `progress(done, total)` after each batch.
    package func seed(
        users userCount: Int, incidents incidentCount: Int, journalShare: Double = 0.2, seed: UInt64 = 1,
        progress: @Sendable (Int, Int) -> Void = { _, _ in }
    ) async throws -> Report {
        let users = max(0, min(userCount, 1_000_000))
        let incidents = max(0, min(incidentCount, 10_000_000))
        let share = max(0, min(journalShare, 1))
        let started = Date()
        var random = SeedRandom(seed: seed)
        var report = Report()
        let total = users + incidents
        let hash = try await app.password.async.hash(RandomToken.password())
        let now = Date()
        let itil = try await roleId("itil")
        let runId = String(TableWrite.newSysId().prefix(6))

        var callers: [String] = []
        var agents: [String] = []
        var done = 0
        while report.users < users {
            let count = min(Self.batch, users - report.users)
            var rows: [[any Encodable & Sendable]] = []
            var roles: [[any Encodable & Sendable]] = []
            for _ in 0..<count {
                let index = report.users + rows.count
                let first = Self.firstNames[random.next(Self.firstNames.count)]
                let last = Self.lastNames[random.next(Self.lastNames.count)]
                let userName = "load.\(runId).\(index)"
                let sysId = TableWrite.newOrderedSysId()
                let stamp = DeskTime.format(now.addingTimeInterval(-Double(random.next(730 * 86_400))))
                rows.append([
                    sysId, stamp, "load.seed", stamp, "load.seed", userName, first, last, "\(first) \(last)",
                    "\(first.lowercased()).\(last.lowercased()).\(index)@contoso.com", hash, random.next(100) < 97,
                    false,
                ])
                if index % 10 == 0, let itil {
                    agents.append(sysId)
                    roles.append([TableWrite.newOrderedSysId(), stamp, "load.seed", stamp, "load.seed", sysId, itil])
                } else {
                    callers.append(sysId)
                }
            }
            try await insert(
                DeskTables.user.databaseTable,
                [
                    "sys_id", "sys_created_on", "sys_created_by", "sys_updated_on", "sys_updated_by", "user_name",
                    "first_name", "last_name", "name", "email", "user_password", "active", "web_service_access_only",
                ], rows,
                also: roles.isEmpty
                    ? nil
                    : (
                        DeskTables.userRole.databaseTable,
                        [
                            "sys_id", "sys_created_on", "sys_created_by", "sys_updated_on", "sys_updated_by", "user",
                            "role",
                        ],
                        roles
                    ))
            report.users += count
            done += count
            progress(done, total)
        }
        if callers.isEmpty { callers = try await existingUsers() }
        if agents.isEmpty { agents = callers }

        let stateWheel = Self.states.flatMap { Array(repeating: $0.state, count: $0.share) }
        while report.incidents < incidents {
            let count = min(Self.batch, incidents - report.incidents)
            let firstNumber = try await reserveNumbers(count)
            var rows: [[any Encodable & Sendable]] = []
            var notes: [[any Encodable & Sendable]] = []
            for offset in 0..<count {
                let problem = Self.problems[random.next(Self.problems.count)]
                let state = stateWheel[random.next(stateWheel.count)]
                let impact = 1 + random.next(3)
                let urgency = 1 + random.next(3)
                let opened = now.addingTimeInterval(-Double(random.next(730 * 86_400)))
                let updated = min(now, opened.addingTimeInterval(Double(random.next(30 * 86_400))))
                let caller = callers[random.next(callers.count)]
                let assignee: String? = state == 1 ? nil : agents[random.next(agents.count)]
                let openedText = DeskTime.format(opened)
                let updatedText = DeskTime.format(updated)
                let sysId = TableWrite.newOrderedSysId()
                let resolved: String? = state >= 6 ? updatedText : nil
                rows.append([
                    sysId, openedText, "load.seed", updatedText, "load.seed",
                    "INC" + String(format: "%07d", firstNumber + offset), problem.0,
                    problem.2 + " Reported by a user of the load test.", caller, problem.1, impact, urgency,
                    impact + urgency - 1, state, assignee, openedText, resolved, state == 7 ? updatedText : nil,
                    state >= 6 ? "Solved (Permanently)" : nil, state >= 6 ? "Fixed for the user." : nil,
                    TableRules.activeStates.contains(state), caller,
                ])
                if Double(random.next(1000)) < share * 1000 {
                    for note in 0..<(1 + random.next(3)) {
                        let at = DeskTime.format(min(now, opened.addingTimeInterval(Double(3600 * (note + 1)))))
                        notes.append([
                            TableWrite.newOrderedSysId(), at, "load.seed", at, "load.seed", "incident", "work_notes",
                            sysId, "Checked with the user (note \(note + 1)).",
                        ])
                    }
                }
            }
            try await insert(
                DeskTables.incident.databaseTable,
                [
                    "sys_id", "sys_created_on", "sys_created_by", "sys_updated_on", "sys_updated_by", "number",
                    "short_description", "description", "caller_id", "category", "impact", "urgency", "priority",
                    "state", "assigned_to", "opened_at", "resolved_at", "closed_at", "close_code", "close_notes",
                    "active", "opened_by",
                ], rows,
                also: notes.isEmpty
                    ? nil
                    : (
                        DeskTables.journal.databaseTable,
                        [
                            "sys_id", "sys_created_on", "sys_created_by", "sys_updated_on", "sys_updated_by", "name",
                            "element", "element_id", "value",
                        ],
                        notes
                    ))
            report.incidents += count
            report.workNotes += notes.count
            done += count
            progress(done, total)
        }
        try await refreshStatistics()
        report.seconds = Date().timeIntervalSince(started)
        return report
    }

    /// Gives the query planner the new tables' statistics (and PostgreSQL its visibility map for index-only
    /// counts), as a desk's routine maintenance (autovacuum) would some time after a bulk load.
    private func refreshStatistics() async throws {
        let sql = try sql()
        let tables = [
            DeskTables.incident.databaseTable, DeskTables.user.databaseTable, DeskTables.userRole.databaseTable,
            DeskTables.journal.databaseTable,
        ]
        if sql.dialect.name == "postgresql" {
            for table in tables { try await sql.raw("VACUUM ANALYZE \(ident: table)").run() }
        } else {
            try await sql.raw("ANALYZE").run()
        }
    }

    private func sql() throws -> any SQLDatabase {
        guard let sql = app.db as? any SQLDatabase else { throw DeskError.internalError }
        return sql
    }

    /// Inserts `rows` (and `also`'s rows) in one transaction.
    private func insert(
        _ table: String, _ columns: [String], _ rows: [[any Encodable & Sendable]],
        also: (String, [String], [[any Encodable & Sendable]])?
    ) async throws {
        let boxed = Rows(main: (table, columns, rows), also: also)
        try await app.db.transaction { database in
            guard let sql = database as? any SQLDatabase else { throw DeskError.internalError }
            for (table, columns, rows) in [boxed.main] + (boxed.also.map { [$0] } ?? []) where !rows.isEmpty {
                var insert = sql.insert(into: table).columns(columns)
                for row in rows { insert = insert.values(row.map { SQLBind($0) }) }
                try await insert.run()
            }
        }
    }

    /// Rows of plain values (strings, numbers, booleans, nil) crossing into the transaction.
    private struct Rows: @unchecked Sendable {
        let main: (String, [String], [[any Encodable & Sendable]])
        let also: (String, [String], [[any Encodable & Sendable]])?
    }

    /// Takes `count` incident numbers from the desk's counter at once; the first of them.
    private func reserveNumbers(_ count: Int) async throws -> Int {
        let row = try await sql().raw(
            """
            UPDATE \(ident: NumberCounter.schema) SET last = last + \(bind: count) WHERE table_name = 'incident' \
            RETURNING last
            """
        ).first()
        guard let last = try row?.decode(column: "last", as: Int.self) else { throw DeskError.internalError }
        return last - count + 1
    }

    private func roleId(_ name: String) async throws -> String? {
        try await sql().select().column("sys_id").from(DeskTables.role.databaseTable).where("name", .equal, name)
            .first()?.decode(column: "sys_id", as: String.self)
    }

    private func existingUsers() async throws -> [String] {
        try await sql().select().column("sys_id").from(DeskTables.user.databaseTable).where("active", .equal, true)
            .limit(10_000).all().map { try $0.decode(column: "sys_id", as: String.self) }
    }
}

/// A small seeded random source (SplitMix64): the same seed, the same desk.
struct SeedRandom {
    private var state: UInt64

    init(seed: UInt64) { state = seed }

    /// A number in 0..<bound (bound > 0).
    mutating func next(_ bound: Int) -> Int {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        z ^= z >> 31
        return Int(z % UInt64(max(1, bound)))
    }
}

import Foundation
import SQLKit
import ServerSupport
import Vapor
import WireModels

/// Demo desk users (admin, agents, the web-service-only integration user) and realistic Microsoft 365
/// incidents. Passwords are random per data folder.
package struct DeskDemoSeed: Sendable {
    /// What the seed created, as written to the `desk` section of `data/demo.json`.
    package struct Credentials: Codable, Sendable, Equatable {
        package struct User: Codable, Sendable, Equatable {
            package var userName: String
            package var password: String
            package var roles: [String]
            package var webServiceAccessOnly: Bool
        }

        package struct OAuthClient: Codable, Sendable, Equatable {
            package var name: String
            package var clientId: String
            package var clientSecret: String
        }

        package var users: [User]
        package var oauthClients: [OAuthClient]
        package var incidents: Int
    }

    let app: Application

    package init(app: Application) {
        self.app = app
    }

    /// Seeds once: returns nil when the demo admin already exists.
    package func seedIfNeeded() async throws -> Credentials? {
        let directory = DeskDirectory(app: app)
        let users = TableStore(table: DeskTables.user, sql: try sql())
        let existing = try await users.list(
            EncodedQuery(groups: [[.init(field: "user_name", op: .equals, value: "desk.admin")]]), limit: 1, offset: 0,
            counting: .skip)
        guard existing.records.isEmpty else { return nil }

        let people: [(String, String, String, [String], Bool)] = [
            ("desk.admin", "Dana", "Admin", [DeskRole.admin], false),
            ("beth.anglin", "Beth", "Anglin", [DeskRole.itil, M365SupportScope.insightsUser], false),
            ("david.loo", "David", "Loo", [DeskRole.itil, M365SupportScope.administrator], false),
            ("m365.integration", "Microsoft 365", "Integration", [DeskRole.itil], true),
            ("abel.tuter", "Abel", "Tuter", [], false),
        ]
        var credentials: [Credentials.User] = []
        var ids: [String: String] = [:]
        for (userName, first, last, roles, webOnly) in people {
            let password = RandomToken.password()
            ids[userName] = try await directory.createUser(
                userName: userName, firstName: first, lastName: last, email: "\(userName)@contoso.com",
                password: password, roles: roles, webServiceAccessOnly: webOnly)
            credentials.append(
                .init(userName: userName, password: password, roles: roles, webServiceAccessOnly: webOnly))
        }

        for incident in Self.incidents {
            var fields: [String: Any] = [
                "short_description": incident.short, "description": incident.description, "category": incident.category,
                "impact": incident.impact, "urgency": incident.urgency, "state": incident.state,
                "caller_id": ids["abel.tuter"] ?? "",
            ]
            if incident.state != 1 { fields["assigned_to"] = ids["beth.anglin"] ?? "" }
            if incident.state >= 6 {
                fields["close_code"] = "Solved (Permanently)"
                fields["close_notes"] = "Resolved with the user."
            }
            try await directory.insert(DeskTables.incident, fields, by: "beth.anglin")
        }
        let inboundName = "Microsoft 365 support (inbound)"
        let inbound = try await directory.createInboundEntity(name: inboundName, refreshTokenLifespan: 864_000)
        return Credentials(
            users: credentials,
            oauthClients: [.init(name: inboundName, clientId: inbound.clientId, clientSecret: inbound.clientSecret)],
            incidents: Self.incidents.count)
    }

    private func sql() throws -> any SQLDatabase {
        guard let sql = app.db as? any SQLDatabase else { throw DeskError.internalError }
        return sql
    }

    private struct DemoIncident {
        let short: String
        let description: String
        let category: String
        let impact: Int
        let urgency: Int
        let state: Int
    }

    private static let incidents: [DemoIncident] = [
        .init(
            short: "Outlook keeps asking for password",
            description:
                "Since this morning Outlook on my laptop prompts for credentials every few minutes, even after entering the right password.",
            category: "software", impact: 2, urgency: 2, state: 1),
        .init(
            short: "Cannot join Teams meetings from browser",
            description: "Joining any Teams meeting from Edge shows 'We couldn't connect you'. The desktop app works.",
            category: "software", impact: 3, urgency: 2, state: 2),
        .init(
            short: "Emails to external partners delayed",
            description: "Messages sent to fabrikam.com arrive 2-3 hours late. Internal mail is fine.",
            category: "network", impact: 1, urgency: 1, state: 2),
        .init(
            short: "OneDrive sync stuck on 'Processing changes'",
            description: "OneDrive shows processing changes for hours and new files do not upload.",
            category: "software", impact: 3, urgency: 3, state: 1),
        .init(
            short: "SharePoint site returns access denied",
            description:
                "The Finance team site returns access denied for all members of the finance group since yesterday.",
            category: "software", impact: 2, urgency: 1, state: 3),
        .init(
            short: "MFA prompt not received on phone",
            description: "The Authenticator app does not show the sign-in approval; SMS fallback also fails.",
            category: "inquiry", impact: 3, urgency: 1, state: 2),
        .init(
            short: "Shared mailbox not visible in Outlook",
            description: "The support@ shared mailbox disappeared from Outlook after the weekend.",
            category: "software", impact: 3, urgency: 3, state: 6),
        .init(
            short: "Exchange Online mailbox full",
            description: "User receives 'mailbox full' warnings although archive is enabled.", category: "software",
            impact: 3, urgency: 2, state: 7),
        .init(
            short: "Teams calls drop after 30 seconds",
            description: "All outgoing PSTN calls in Teams drop after about 30 seconds for the Madrid office.",
            category: "network", impact: 2, urgency: 2, state: 2),
        .init(
            short: "Excel files open read-only from SharePoint",
            description:
                "Workbooks opened from SharePoint are read-only for co-authors; 'Edit workbook' is greyed out.",
            category: "software", impact: 3, urgency: 3, state: 1),
        .init(
            short: "License assignment failed for new hire",
            description: "Assigning Microsoft 365 E3 to a new account fails with a usage location error.",
            category: "inquiry", impact: 3, urgency: 2, state: 8),
        .init(
            short: "Calendar invites show wrong time zone",
            description: "Meeting invites from Outlook on the web show times one hour off for recipients.",
            category: "software", impact: 3, urgency: 3, state: 6),
    ]
}

import Foundation
import SQLKit
import ServerSupport
import Vapor
import WireModels

/// Where an issue came from: published by the support team, or read from Microsoft Graph.
enum HealthSource: String, Sendable {
    case local
    case graph
}

/// Each tenant's service health: the services of `healthOverviews` and the issues, in Graph's shapes.
struct HealthStore {
    let sql: any SQLDatabase
    let now: @Sendable () -> Date

    static let issuesTable = "connector_health_issues"
    static let servicesTable = "connector_health_services"

    private struct IssueRow: Decodable {
        let issue_id: String
        let title: String
        let service: String
        let feature: String?
        let feature_group: String?
        let impact_description: String?
        let classification: String
        let origin: String
        let status: String
        let is_resolved: Bool
        let start_at: Double?
        let end_at: Double?
        let last_modified_at: Double
        let details: String?
        let posts: String?

        var stored: StoredIssue {
            StoredIssue(
                issue: ServiceHealthIssue(
                    id: issue_id, title: title, startDateTime: start_at.map(Date.init(timeIntervalSince1970:)),
                    endDateTime: end_at.map(Date.init(timeIntervalSince1970:)),
                    lastModifiedDateTime: Date(timeIntervalSince1970: last_modified_at),
                    impactDescription: impact_description, classification: classification, origin: origin,
                    status: status, service: service, feature: feature, featureGroup: feature_group,
                    isResolved: is_resolved),
                detailsJSON: details, postsJSON: posts)
        }
    }

    /// An issue as stored: its `details` and `posts` still JSON, read only for the issues an answer shows.
    struct StoredIssue: Sendable {
        /// Every field but `details` and `posts`.
        let issue: ServiceHealthIssue
        /// nil when they were not read (``HealthStore/storedIssues(tenant:collections:)``).
        var detailsJSON: String?
        var postsJSON: String?

        var full: ServiceHealthIssue {
            var issue = issue
            issue.details =
                (try? GraphDate.decoder.decode([GraphKeyValuePair].self, from: Data((detailsJSON ?? "[]").utf8))) ?? []
            issue.posts =
                (try? GraphDate.decoder.decode([ServiceHealthIssuePost].self, from: Data((postsJSON ?? "[]").utf8)))
                ?? []
            return issue
        }
    }

    private struct ServiceRow: Decodable {
        let service_id: String
        let service: String
        let status: String
    }

    // MARK: Reading

    func issues(tenant: String) async throws -> [ServiceHealthIssue] {
        try await storedIssues(tenant: tenant).map(\.full)
    }

    /// The tenant's issues; without `collections`, their posts and details (most of a row) are left unread; with
    /// `unresolvedOnly`, resolved issues (most of a tenant's history) are not read either.
    func storedIssues(tenant: String, collections: Bool = true, unresolvedOnly: Bool = false) async throws
        -> [StoredIssue]
    {
        let columns: [any SQLExpression] =
            collections
            ? [SQLLiteral.all]
            : [
                "issue_id", "title", "service", "feature", "feature_group", "impact_description", "classification",
                "origin", "status", "is_resolved", "start_at", "end_at", "last_modified_at",
            ].map { SQLIdentifier($0) }
        var select = sql.select().columns(columns).from(Self.issuesTable).where("tenant_id", .equal, tenant)
        if unresolvedOnly { select = select.where("is_resolved", .equal, false) }
        return try await select.all(decoding: IssueRow.self).map(\.stored)
    }

    func issue(tenant: String, id: String) async throws -> ServiceHealthIssue? {
        try await storedIssue(tenant: tenant, id: id)?.full
    }

    func storedIssue(tenant: String, id: String) async throws -> StoredIssue? {
        try await sql.select().columns("*").from(Self.issuesTable).where("tenant_id", .equal, tenant)
            .where("issue_id", .equal, id).first(decoding: IssueRow.self)?.stored
    }

    func services(tenant: String) async throws -> [ServiceHealthOverview] {
        try await sql.select().columns("*").from(Self.servicesTable).where("tenant_id", .equal, tenant)
            .orderBy("service").all(decoding: ServiceRow.self)
            .map { ServiceHealthOverview(id: $0.service_id, service: $0.service, status: $0.status) }
    }

    // MARK: Writing

    /// Inserts or replaces an issue as given (enumerations normalised, unknown members kept).
    func save(_ issue: ServiceHealthIssue, tenant: String, source: HealthSource) async throws {
        let checked = try Self.checked(issue, now: now())
        let details = String(decoding: try GraphDate.encoder.encode(checked.details ?? []), as: UTF8.self)
        let posts = String(decoding: try GraphDate.encoder.encode(checked.posts ?? []), as: UTF8.self)
        let values: [(String, SQLBind)] = [
            ("title", SQLBind(checked.title)), ("service", SQLBind(checked.service ?? "")),
            ("feature", SQLBind(checked.feature)), ("feature_group", SQLBind(checked.featureGroup)),
            ("impact_description", SQLBind(checked.impactDescription)),
            ("classification", SQLBind(checked.classification ?? "advisory")),
            ("origin", SQLBind(checked.origin ?? "microsoft")), ("status", SQLBind(checked.status ?? "investigating")),
            ("is_resolved", SQLBind(checked.isResolved ?? false)),
            ("start_at", SQLBind(checked.startDateTime?.timeIntervalSince1970)),
            ("end_at", SQLBind(checked.endDateTime?.timeIntervalSince1970)),
            ("last_modified_at", SQLBind((checked.lastModifiedDateTime ?? now()).timeIntervalSince1970)),
            ("details", SQLBind(details)), ("posts", SQLBind(posts)), ("source", SQLBind(source.rawValue)),
        ]
        var update = sql.update(Self.issuesTable)
        for (column, value) in values { update = update.set(SQLIdentifier(column), to: value) }
        let updated = try await update.where("tenant_id", .equal, tenant).where("issue_id", .equal, checked.id)
            .returning("issue_id").all()
        if updated.isEmpty {
            let row = [("tenant_id", SQLBind(tenant)), ("issue_id", SQLBind(checked.id))] + values
            try await sql.insert(into: Self.issuesTable).columns(row.map(\.0)).values(row.map(\.1)).run()
        }
    }

    func saveService(_ service: ServiceHealthOverview, tenant: String) async throws {
        let id = service.id.isEmpty ? Self.serviceId(for: service.service) : service.id
        let status = GraphEnum.normalized(service.status, in: GraphEnum.status)
        let updated = try await sql.update(Self.servicesTable)
            .set("service", to: service.service).set("status", to: status)
            .set("updated_at", to: now().timeIntervalSince1970)
            .where("tenant_id", .equal, tenant).where("service_id", .equal, id)
            .returning("service_id").all()
        if updated.isEmpty {
            try await sql.insert(into: Self.servicesTable)
                .columns("tenant_id", "service_id", "service", "status", "updated_at")
                .values(
                    SQLBind(tenant), SQLBind(id), SQLBind(service.service), SQLBind(status),
                    SQLBind(now().timeIntervalSince1970)
                )
                .run()
        }
    }

    /// A locally published service's status follows its issues: the status of its most recently changed open
    /// incident, else of its open advisory (`serviceDegradation` at most), else `serviceOperational`.
    func refreshLocalStatus(service name: String, tenant: String) async throws {
        let open = try await storedIssues(tenant: tenant, collections: false, unresolvedOnly: true).map(\.issue)
            .filter { $0.service?.caseInsensitiveCompare(name) == .orderedSame }.sorted {
                ($0.lastModifiedDateTime ?? .distantPast) > ($1.lastModifiedDateTime ?? .distantPast)
            }
        let status: String
        if let incident = open.first(where: { $0.classification == "incident" }) {
            status = incident.status ?? "investigating"
        } else if !open.isEmpty {
            status = "serviceDegradation"
        } else {
            status = "serviceOperational"
        }
        let existing = try await services(tenant: tenant).first {
            $0.service.caseInsensitiveCompare(name) == .orderedSame
        }
        try await saveService(
            ServiceHealthOverview(
                id: existing?.id ?? Self.serviceId(for: name), service: existing?.service ?? name, status: status),
            tenant: tenant)
    }

    // MARK: Checks

    static let maxTextLength = 4000
    static let maxPosts = 500

    /// The issue with enumerations in Graph's casing, or a refusal naming what is wrong.
    static func checked(_ issue: ServiceHealthIssue, now: Date) throws -> ServiceHealthIssue {
        var issue = issue
        issue.id = issue.id.trimmingCharacters(in: .whitespaces)
        guard (1...64).contains(issue.id.count),
            issue.id.unicodeScalars.allSatisfy({
                CharacterSet.alphanumerics.contains($0) || "-_.".unicodeScalars.contains($0)
            })
        else {
            throw ConnectorError.invalid(
                "An issue ID is 1 to 64 letters, digits, '-', '_' or '.', such as EX226792 ('\(issue.id.prefix(70))').")
        }
        guard !issue.title.trimmingCharacters(in: .whitespaces).isEmpty, issue.title.count <= 500 else {
            throw ConnectorError.invalid("Issue \(issue.id) needs a title of up to 500 characters.")
        }
        guard let service = issue.service?.trimmingCharacters(in: .whitespaces), (1...200).contains(service.count)
        else { throw ConnectorError.invalid("Issue \(issue.id) needs the name of the service it affects.") }
        issue.service = service
        for (name, text) in [
            ("feature", issue.feature), ("featureGroup", issue.featureGroup),
            ("impactDescription", issue.impactDescription),
        ] where (text?.count ?? 0) > maxTextLength {
            throw ConnectorError.invalid("Issue \(issue.id): \(name) is longer than \(maxTextLength) characters.")
        }
        guard (issue.posts?.count ?? 0) <= maxPosts, (issue.details?.count ?? 0) <= 100 else {
            throw ConnectorError.invalid("Issue \(issue.id) has more than \(maxPosts) posts or 100 details.")
        }
        for post in issue.posts ?? [] where (post.description?.content?.utf8.count ?? 0) > 64 * 1024 {
            throw ConnectorError.invalid("A post of issue \(issue.id) is longer than 64 KB.")
        }
        // Graph writes milliseconds: a time kept finer would not equal its own written form in a filter.
        issue.startDateTime = issue.startDateTime.map(Self.milliseconds)
        issue.endDateTime = issue.endDateTime.map(Self.milliseconds)
        issue.lastModifiedDateTime = Self.milliseconds(issue.lastModifiedDateTime ?? now)
        issue.classification = issue.classification.map { GraphEnum.normalized($0, in: GraphEnum.classification) }
        issue.origin = issue.origin.map { GraphEnum.normalized($0, in: GraphEnum.origin) }
        issue.status = issue.status.map { GraphEnum.normalized($0, in: GraphEnum.status) }
        issue.posts = issue.posts?.map { post in
            var post = post
            post.createdDateTime = Self.milliseconds(post.createdDateTime)
            post.postType = post.postType.map { GraphEnum.normalized($0, in: GraphEnum.postType) }
            if var body = post.description {
                body.contentType = body.contentType.map { GraphEnum.normalized($0, in: ["html", "text"]) }
                post.description = body
            }
            return post
        }
        return issue
    }

    static func milliseconds(_ date: Date) -> Date {
        let millis = (date.timeIntervalSince1970 * 1000).rounded()
        return Date(timeIntervalSince1970: millis.isFinite ? millis / 1000 : 0)
    }

    /// Graph's service IDs for the services people name most, else the name without spaces and punctuation.
    static func serviceId(for name: String) -> String {
        let known = [
            "exchange online": "Exchange", "microsoft 365 suite": "OSDPPlatform", "identity service": "OrgLiveID",
            "sharepoint online": "SharePoint", "onedrive for business": "OneDriveForBusiness",
            "microsoft teams": "microsoftteams", "microsoft intune": "Intune", "microsoft 365 apps": "O365Client",
            "microsoft entra": "OrgLiveID", "power bi": "PowerBIcom", "planner": "Planner",
            "yammer enterprise": "yammer",
            "microsoft forms": "Forms", "sway": "SwayEnterprise", "microsoft bookings": "Bookings",
        ]
        if let id = known[name.lowercased()] { return id }
        return String(
            name.unicodeScalars.filter { CharacterSet.alphanumerics.contains($0) }.prefix(64).map(Character.init))
    }
}

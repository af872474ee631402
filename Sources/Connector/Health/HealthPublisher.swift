import Fluent
import Foundation
import SQLKit
import ServerSupport
import Vapor
import WireModels

/// What the support team does with service health it writes itself: import a Graph-shaped document, publish an
/// issue, post an update, resolve. Every change moves the issue's `lastModifiedDateTime`, which is what
/// incremental readers follow.
package struct HealthPublisher {
    let database: any Database
    let now: @Sendable () -> Date

    private var store: HealthStore {
        get throws { HealthStore(sql: try database.asSQL(), now: now) }
    }

    /// A new issue as the team writes it.
    package struct Publication: Codable, Sendable {
        package var id: String?
        package var title: String
        package var service: String
        package var feature: String?
        package var featureGroup: String?
        package var impactDescription: String?
        /// `incident` or `advisory`.
        package var classification: String?
        package var status: String?
        package var startDateTime: Date?
        /// The first post; the impact description when absent.
        package var message: String?

        package init(
            id: String?, title: String, service: String, feature: String?, featureGroup: String?,
            impactDescription: String?, classification: String?, status: String?, startDateTime: Date?,
            message: String?
        ) {
            self.id = id
            self.title = title
            self.service = service
            self.feature = feature
            self.featureGroup = featureGroup
            self.impactDescription = impactDescription
            self.classification = classification
            self.status = status
            self.startDateTime = startDateTime
            self.message = message
        }
    }

    /// An update to an issue: a post, optionally with a new status.
    package struct Update: Codable, Sendable {
        package var message: String
        package var status: String?
        /// `regular` (default), `quick` or `strategic`.
        package var postType: String?

        package init(message: String, status: String?, postType: String?) {
            self.message = message
            self.status = status
            self.postType = postType
        }
    }

    package struct ImportSummary: Codable, Sendable, Equatable {
        package var issues: Int
        package var services: Int
    }

    // MARK: Import

    /// Reads a document in Graph's own shapes: a collection (`{"value": […]}`) or a bare array of
    /// `serviceHealthIssue`s, or of `serviceHealth`s (with their issues expanded or not), and saves it all.
    /// Nothing is saved when any item is invalid: the refusal names the item.
    func importDocument(_ data: Data, tenant: String, source: HealthSource = .local) async throws -> ImportSummary {
        let items = try Self.items(in: data)
        var issues: [ServiceHealthIssue] = []
        var services: [ServiceHealthOverview] = []
        for (index, item) in items.enumerated() {
            let itemData = try JSONSerialization.data(withJSONObject: item)
            do {
                if item["title"] != nil {
                    issues.append(
                        try HealthStore.checked(
                            GraphDate.decoder.decode(ServiceHealthIssue.self, from: itemData), now: now()))
                } else {
                    var service = try GraphDate.decoder.decode(ServiceHealthOverview.self, from: itemData)
                    for issue in service.issues ?? [] { issues.append(try HealthStore.checked(issue, now: now())) }
                    service.issues = nil
                    services.append(service)
                }
            } catch let error as ConnectorError {
                throw ConnectorError.invalid("Item \(index + 1): \(error.reason)")
            } catch let error as DecodingError {
                throw ConnectorError.invalid(
                    "Item \(index + 1) is not a serviceHealthIssue or serviceHealth: \(Self.describe(error))")
            }
        }
        let now = self.now
        let (checkedIssues, checkedServices) = (issues, services)
        try await database.transaction { database in
            let store = HealthStore(sql: try database.asSQL(), now: now)
            for service in checkedServices { try await store.saveService(service, tenant: tenant) }
            for issue in checkedIssues { try await store.save(issue, tenant: tenant, source: source) }
            // Services named only by issues appear in healthOverviews too.
            let known = Set(try await store.services(tenant: tenant).map { $0.service.lowercased() })
            for name in Set(checkedIssues.compactMap { $0.service }) where !known.contains(name.lowercased()) {
                try await store.refreshLocalStatus(service: name, tenant: tenant)
            }
        }
        return ImportSummary(issues: issues.count, services: services.count)
    }

    static func items(in data: Data) throws -> [[String: Any]] {
        guard let document = try? JSONSerialization.jsonObject(with: data) else {
            throw ConnectorError.invalid("The document is not JSON.")
        }
        let list: [Any]
        if let array = document as? [Any] {
            list = array
        } else if let object = document as? [String: Any], let value = object["value"] as? [Any] {
            list = value
        } else if let object = document as? [String: Any], object["id"] != nil {
            list = [object]
        } else {
            throw ConnectorError.invalid("The document is neither a Graph collection ({\"value\": […]}) nor an array.")
        }
        guard list.count <= 10_000 else { throw ConnectorError.invalid("A document holds at most 10000 items.") }
        return try list.enumerated().map { index, item in
            guard let object = item as? [String: Any] else {
                throw ConnectorError.invalid("Item \(index + 1) is not a JSON object.")
            }
            return object
        }
    }

    static func describe(_ error: DecodingError) -> String {
        switch error {
        case .keyNotFound(let key, _): "'\(key.stringValue)' is missing"
        case .typeMismatch(_, let context), .valueNotFound(_, let context), .dataCorrupted(let context):
            "\(context.codingPath.map(\.stringValue).joined(separator: ".")): \(context.debugDescription)"
        @unknown default: "\(error)"
        }
    }

    // MARK: Publishing

    func publish(_ input: Publication, tenant: String) async throws -> ServiceHealthIssue {
        let stamp = now()
        let classification = GraphEnum.normalized(input.classification ?? "incident", in: GraphEnum.classification)
        guard ["incident", "advisory"].contains(classification) else {
            throw ConnectorError.invalid("The classification is incident or advisory.")
        }
        let id: String
        if let given = input.id { id = given } else { id = try await nextId(service: input.service, tenant: tenant) }
        if try await store.issue(tenant: tenant, id: id) != nil {
            throw ConnectorError(.conflict, .conflict, "Issue \(id) already exists; post an update to it instead.")
        }
        let message = input.message ?? input.impactDescription ?? input.title
        let issue = ServiceHealthIssue(
            id: id, title: input.title, startDateTime: input.startDateTime ?? stamp, lastModifiedDateTime: stamp,
            impactDescription: input.impactDescription, classification: classification, origin: "microsoft",
            status: try status(input.status ?? "investigating"), service: input.service, feature: input.feature,
            featureGroup: input.featureGroup, isResolved: false, details: [],
            posts: [Self.post(message, type: "regular", at: stamp)])
        try await store.save(issue, tenant: tenant, source: .local)
        try await store.refreshLocalStatus(service: input.service, tenant: tenant)
        guard let saved = try await store.issue(tenant: tenant, id: id) else { throw Abort(.internalServerError) }
        return saved
    }

    func post(_ update: Update, issueId: String, tenant: String) async throws -> ServiceHealthIssue {
        guard var issue = try await store.issue(tenant: tenant, id: issueId) else {
            throw ConnectorError.notFound("Tenant \(tenant) has no service health issue \(issueId.prefix(64)).")
        }
        let stamp = now()
        let type = GraphEnum.normalized(update.postType ?? "regular", in: GraphEnum.postType)
        issue.posts = (issue.posts ?? []) + [Self.post(update.message, type: type, at: stamp)]
        if let status = update.status {
            issue.status = try self.status(status)
            issue.isResolved = GraphEnum.closedStatuses.contains(issue.status ?? "")
            if issue.isResolved == true, issue.endDateTime == nil { issue.endDateTime = stamp }
        }
        issue.lastModifiedDateTime = stamp
        try await store.save(issue, tenant: tenant, source: .local)
        if let service = issue.service { try await store.refreshLocalStatus(service: service, tenant: tenant) }
        return issue
    }

    func resolve(issueId: String, tenant: String, message: String?, status: String?) async throws -> ServiceHealthIssue
    {
        let final = try self.status(status ?? "serviceRestored")
        guard GraphEnum.closedStatuses.contains(final) else {
            throw ConnectorError.invalid(
                "A resolved issue's status is one of \(GraphEnum.closedStatuses.sorted().joined(separator: ", ")).")
        }
        return try await post(
            Update(message: message ?? "This issue is resolved.", status: final, postType: "regular"), issueId: issueId,
            tenant: tenant)
    }

    private func status(_ value: String) throws -> String {
        let normalized = GraphEnum.normalized(value, in: GraphEnum.status)
        guard GraphEnum.status.contains(normalized) else {
            throw ConnectorError.invalid(
                "'\(value.prefix(40))' is not a service health status (\(GraphEnum.status.prefix(11).joined(separator: ", ")), …)."
            )
        }
        return normalized
    }

    /// Graph-like IDs: a prefix from the service and a number (`EX1001`, `TM1002`), unique in the tenant.
    private func nextId(service: String, tenant: String) async throws -> String {
        let letters = service.uppercased().unicodeScalars.filter { ("A"..."Z").contains($0) }
        let prefix = String(String.UnicodeScalarView(letters.prefix(2))).padding(
            toLength: 2, withPad: "X", startingAt: 0)
        let taken = Set(try await store.storedIssues(tenant: tenant, collections: false).map(\.issue.id))
        var number = 1001
        while taken.contains("\(prefix)\(number)") { number += 1 }
        return "\(prefix)\(number)"
    }

    static func post(_ message: String, type: String, at date: Date) -> ServiceHealthIssuePost {
        ServiceHealthIssuePost(
            createdDateTime: date, postType: type, description: GraphItemBody(contentType: "html", content: message))
    }
}

import Foundation
import ServerSupport
import Vapor
import WireModels

/// Microsoft Graph's service communications API for the caller's tenant: `issues`, `issues/{id}`,
/// `healthOverviews` and `healthOverviews/{service}`, with Graph's paging and query options. Needs the
/// `ServiceHealth.Read.All` application role.
struct ServiceHealthController: RouteCollection {
    static let defaultPageSize = 100

    static let issueSchema = ODataSchema(
        properties: [
            "id": .string, "title": .string, "service": .string, "feature": .string, "featureGroup": .string,
            "impactDescription": .string, "classification": .enumeration, "origin": .enumeration,
            "status": .enumeration, "isResolved": .bool, "startDateTime": .date, "endDateTime": .date,
            "lastModifiedDateTime": .date, "details": .string, "posts": .string,
        ], selectOnly: ["details", "posts"])

    static let overviewSchema = ODataSchema(properties: ["id": .string, "service": .string, "status": .enumeration])

    func boot(routes: any RoutesBuilder) throws {
        let graph = routes.grouped(BearerAuthMiddleware())
        graph.get(ConnectorPath.issues.pathComponents, use: listIssues)
        graph.get(ConnectorPath.issues.pathComponents + [":id"], use: getIssue)
        graph.get(ConnectorPath.healthOverviews.pathComponents, use: listOverviews)
        graph.get(ConnectorPath.healthOverviews.pathComponents + [":service"], use: getOverview)
    }

    // MARK: Issues

    func listIssues(_ request: Request) async throws -> Response {
        let caller = try Self.authorize(request)
        let query = try Self.query(
            request, schema: Self.issueSchema, allowed: [.filter, .orderby, .select, .top, .skip, .count])
        // Posts and details are most of a row: read only when the answer shows them.
        let showsCollections =
            query.select.map { $0.contains("*") || $0.contains("posts") || $0.contains("details") } ?? true
        let issues = try await request.application.health(request.db).storedIssues(
            tenant: caller.tenantId, collections: showsCollections)
        return try Self.page(
            request, query: query, records: issues, schema: Self.issueSchema, context: "issues",
            value: { Self.value(of: $0.issue, $1) }, id: \.issue.id, encode: { $0.issue($1) })
    }

    func getIssue(_ request: Request) async throws -> Response {
        let caller = try Self.authorize(request)
        let query = try Self.query(request, schema: Self.issueSchema, allowed: [.select])
        let id = try request.parameters.require("id")
        guard let issue = try await request.application.health(request.db).storedIssue(tenant: caller.tenantId, id: id)
        else {
            throw GraphError(
                status: .notFound, code: "NotFound", message: "Service health issue '\(id.prefix(64))' was not found.")
        }
        var json = GraphJSON(select: query.select)
        json.issue(issue)
        return Self.entity(json, context: Self.contextURL(request, "issues/$entity"))
    }

    // MARK: Health overviews

    func listOverviews(_ request: Request) async throws -> Response {
        let caller = try Self.authorize(request)
        let query = try Self.query(
            request, schema: Self.overviewSchema, allowed: [.filter, .orderby, .select, .top, .skip, .count, .expand],
            expandable: ["issues"])
        let store = try request.application.health(request.db)
        let services = try await store.services(tenant: caller.tenantId)
        let issues = query.expand.isEmpty ? nil : try await store.storedIssues(tenant: caller.tenantId)
        return try Self.page(
            request, query: query, records: services, schema: Self.overviewSchema, context: "healthOverviews",
            value: Self.value(of:_:), id: \.id,
            encode: { $0.service($1, issues: issues) })
    }

    func getOverview(_ request: Request) async throws -> Response {
        let caller = try Self.authorize(request)
        let query = try Self.query(
            request, schema: Self.overviewSchema, allowed: [.select, .expand], expandable: ["issues"])
        let key = try request.parameters.require("service")
        let store = try request.application.health(request.db)
        // Graph's own example names the service by its display name; its ID works too.
        guard
            let service = try await store.services(tenant: caller.tenantId).first(where: {
                $0.id.caseInsensitiveCompare(key) == .orderedSame
                    || $0.service.caseInsensitiveCompare(key) == .orderedSame
            })
        else {
            throw GraphError(status: .notFound, code: "NotFound", message: "Service '\(key.prefix(64))' was not found.")
        }
        let issues = query.expand.isEmpty ? nil : try await store.storedIssues(tenant: caller.tenantId)
        var json = GraphJSON(select: query.select)
        json.service(service, issues: issues)
        return Self.entity(json, context: Self.contextURL(request, "healthOverviews/$entity"))
    }

    // MARK: Shared

    static func authorize(_ request: Request) throws -> Caller {
        let caller = try request.caller
        guard caller.roles.contains(ConnectorResource.Role.serviceHealthRead) else {
            throw GraphError(
                status: .forbidden, code: "Forbidden",
                message: "The token lacks the ServiceHealth.Read.All application role.")
        }
        return caller
    }

    static func query(
        _ request: Request, schema: ODataSchema, allowed: Set<ODataQuery.Option>, expandable: Set<String> = []
    ) throws -> ODataQuery {
        do {
            return try ODataQuery.parse(
                FormBody.parseQueryPairs(request.url.query ?? ""), schema: schema, allowed: allowed,
                expandable: expandable)
        } catch {
            throw GraphError(status: .badRequest, code: "BadRequest", message: error.message)
        }
    }

    /// Filters, orders and cuts one page of `records`, with `@odata.nextLink` (absolute, the same options and the
    /// next `$skip`) while more remain. Page size: `$top`, else `Prefer: odata.maxpagesize`, else 100.
    static func page<Record>(
        _ request: Request, query: ODataQuery, records: [Record], schema: ODataSchema, context: String,
        value: @escaping (Record, String) -> ODataValue, id: KeyPath<Record, String>,
        encode: (inout GraphJSON, Record) -> Void
    ) throws -> Response {
        var matching = records
        if let filter = query.filter {
            matching = matching.filter { record in filter.matches { value(record, $0) } }
        }
        matching = query.sorted(matching, value: value) { $0[keyPath: id] < $1[keyPath: id] }
        let preferred = Self.preferredPageSize(request)
        let pageSize = min(query.top ?? preferred ?? defaultPageSize, preferred ?? ODataQuery.maxTop)
        let start = min(query.skip, matching.count)
        let end = start + min(pageSize, matching.count - start)
        var json = GraphJSON(select: query.select)
        json.beginObject()
        json.annotation("@odata.context", contextURL(request, context))
        if query.count { json.annotation("@odata.count", matching.count) }
        // `$top` is the whole answer the caller asked for; without it the server pages through everything.
        if query.top == nil, end < matching.count {
            json.annotation("@odata.nextLink", nextLink(request, skip: end))
        }
        json.array("value", matching[start..<end], encode)
        json.endObject()
        let response = Self.response(json.bytes)
        if preferred != nil {
            response.headers.replaceOrAdd(name: "Preference-Applied", value: "odata.maxpagesize=\(pageSize)")
        }
        return response
    }

    /// One resource with its `@odata.context` first.
    static func entity(_ json: GraphJSON, context: String) -> Response {
        var annotation = GraphJSON()
        annotation.beginObject()
        annotation.annotation("@odata.context", context)
        var bytes = Array(annotation.bytes)
        let body = json.bytes.dropFirst()
        if body.first != UInt8(ascii: "}") { bytes.append(UInt8(ascii: ",")) }
        bytes += body
        return response(bytes)
    }

    static func response(_ bytes: [UInt8], status: HTTPResponseStatus = .ok) -> Response {
        let response = Response(status: status, body: .init(buffer: ByteBuffer(bytes: bytes)))
        response.headers.contentType = HTTPMediaType(
            type: "application", subType: "json", parameters: ["odata.metadata": "minimal", "charset": "utf-8"])
        return response
    }

    static func preferredPageSize(_ request: Request) -> Int? {
        for header in request.headers[canonicalForm: "Prefer"] {
            let parts = header.split(separator: "=", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
            if parts.count == 2, parts[0].lowercased() == "odata.maxpagesize",
                let size = InputNumber.parse(parts[1], in: 1...Int.max)
            {
                return min(size, ODataQuery.maxTop)
            }
        }
        return nil
    }

    static func nextLink(_ request: Request, skip: Int) -> String {
        let kept = FormBody.parseQueryPairs(request.url.query ?? "").filter { $0.name.lowercased() != "$skip" }
        var components = URLComponents()
        components.queryItems =
            kept.map { URLQueryItem(name: $0.name, value: $0.value) } + [
                URLQueryItem(name: "$skip", value: String(skip))
            ]
        let path = "/" + request.url.path.split(separator: "/").joined(separator: "/")
        return request.application.connector.config.endpoint.publicURL + path + "?"
            + (components.percentEncodedQuery ?? "").replacingOccurrences(of: "+", with: "%2B")
    }

    static func contextURL(_ request: Request, _ fragment: String) -> String {
        request.application.connector.config.endpoint.publicURL
            + "/\(ConnectorPath.graphVersion)/$metadata#admin/serviceAnnouncement/\(fragment)"
    }

    static func value(of issue: ServiceHealthIssue, _ property: String) -> ODataValue {
        func text(_ value: String?) -> ODataValue { value.map(ODataValue.string) ?? .null }
        func date(_ value: Date?) -> ODataValue { value.map(ODataValue.date) ?? .null }
        switch property {
        case "id": return .string(issue.id)
        case "title": return .string(issue.title)
        case "service": return text(issue.service)
        case "feature": return text(issue.feature)
        case "featureGroup": return text(issue.featureGroup)
        case "impactDescription": return text(issue.impactDescription)
        case "classification": return text(issue.classification)
        case "origin": return text(issue.origin)
        case "status": return text(issue.status)
        case "isResolved": return issue.isResolved.map(ODataValue.bool) ?? .null
        case "startDateTime": return date(issue.startDateTime)
        case "endDateTime": return date(issue.endDateTime)
        case "lastModifiedDateTime": return date(issue.lastModifiedDateTime)
        default: return .null
        }
    }

    static func value(of service: ServiceHealthOverview, _ property: String) -> ODataValue {
        switch property {
        case "id": .string(service.id)
        case "service": .string(service.service)
        case "status": .string(service.status)
        default: .null
        }
    }

}

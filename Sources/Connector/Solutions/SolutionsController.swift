import Foundation
import ServerSupport
import SolutionSearch
import Vapor
import WireModels

/// `POST /api/v1/recommendedSolutions`: the articles that best answer a problem text, and the caller's tenant's
/// active service health issues related to it. For the desk's app (an app-only token with the support integration
/// role, whose app is the tenant profile's App ID).
struct SolutionsController: RouteCollection {
    func boot(routes: any RoutesBuilder) throws {
        routes.grouped(BearerAuthMiddleware())
            .post(ConnectorPath.recommendedSolutions.pathComponents, use: recommend).maxBodySize("128kb")
    }

    func recommend(_ request: Request) async throws -> JSONBody<RecommendedSolutions> {
        let caller = try request.caller
        try caller.require(role: ConnectorResource.Role.supportIntegration)
        let profile = try await request.application.profiles(request.db).profile(tenant: caller.tenantId)
        try IntegrationGate.requireApp(caller, profile: profile)
        let input = try request.content.decode(RecommendedSolutionsRequest.self)
        let text = input.text.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !text.isEmpty else { throw ConnectorError.invalid("text is empty: send the problem to search for.") }
        guard text.count <= RecommendedSolutionsRequest.maxTextLength else {
            throw ConnectorError.invalid(
                "text has \(text.count) characters; at most \(RecommendedSolutionsRequest.maxTextLength) are searched.")
        }
        let top = input.top ?? RecommendedSolutionsRequest.defaultTop
        guard (1...RecommendedSolutionsRequest.maxTop).contains(top) else {
            throw ConnectorError.invalid("top is from 1 to \(RecommendedSolutionsRequest.maxTop).")
        }
        let product = input.product.map { String($0.prefix(200)) }.flatMap { $0.isEmpty ? nil : $0 }

        let index = request.application.connector.solutions.index
        let wanted = Snippet.Query(text, in: index)
        let tenant = caller.tenantId
        // A semantic search encodes the text (tens of milliseconds of CPU): off the pool that serves requests.
        let hits =
            index.isSemantic
            ? await offCooperativePool { index.search(text, product: product, limit: top, tenant: tenant) }
            : index.search(text, product: product, limit: top, tenant: tenant)
        let solutions = hits.compactMap { RecommendedSolutions.Solution($0, in: index, query: wanted) }
        let active = try await request.application.health(request.db)
            .storedIssues(tenant: caller.tenantId, collections: false, unresolvedOnly: true).map(\.issue)
        let related = RelatedIssues.find(text: text, product: product, in: active).map { match in
            let issue = match.issue
            return RecommendedSolutions.RelatedHealthIssue(
                id: issue.id, title: issue.title, service: issue.service, feature: issue.feature,
                classification: issue.classification, status: issue.status,
                impactDescription: issue.impactDescription, startDateTime: issue.startDateTime,
                lastModifiedDateTime: issue.lastModifiedDateTime,
                issuePath: "/" + ConnectorPath.issues + "/" + issue.id, matchedBecause: match.reasons)
        }
        request.logger.debug(
            "Recommended solutions",
            metadata: ["tenant": "\(caller.tenantId)", "solutions": "\(solutions.count)", "issues": "\(related.count)"])
        return JSONBody(RecommendedSolutions(solutions: solutions, serviceHealthIssues: related))
    }
}

extension RecommendedSolutions.Solution {
    /// A hit of `index` as the Connector answers it: the score to three decimals, a snippet with the query's words
    /// marked. Nil when the index does not hold the hit's article.
    package init?(_ hit: SearchHit, in index: SolutionIndex, query: Snippet.Query) {
        guard let article = index.article(id: hit.id) else { return nil }
        self.init(
            id: article.id, title: article.title, product: article.product, url: article.url,
            score: (hit.score * 1000).rounded() / 1000, snippet: Snippet.make(for: article, query: query, in: index))
    }
}

/// `/admin/api/knowledgeBase/articles/{id}`: the operator adds, replaces, reads and retires single articles (IDs
/// may hold slashes, as the corpus's do). A change is searchable when the answer arrives.
struct ArticleAdminController: RouteCollection {
    let adminToken: String?

    func boot(routes: any RoutesBuilder) throws {
        let articles = routes.grouped(ConnectorPath.articles.pathComponents)
            .grouped(AdminTokenMiddleware(token: adminToken, variable: "M365_CONNECTOR_ADMIN_TOKEN"))
        articles.get("**", use: show)
        articles.put("**", use: save).maxBodySize("2mb")
        articles.delete("**", use: retire)
    }

    private func id(_ request: Request) throws -> String {
        let id = request.parameters.getCatchall().joined(separator: "/")
        guard let decoded = id.removingPercentEncoding else {
            throw ConnectorError.invalid("The article ID in the path is not percent-encoded UTF-8.")
        }
        guard !decoded.isEmpty else { throw ConnectorError.invalid("The path names no article ID.") }
        return decoded
    }

    private func knowledgeBase(_ request: Request) -> KnowledgeBase {
        KnowledgeBase(database: request.db, now: request.application.connector.config.now)
    }

    func show(_ request: Request) async throws -> JSONBody<KnowledgeArticle> {
        let id = try id(request)
        guard let article = try await knowledgeBase(request).article(id: id) else {
            throw ConnectorError.notFound("The knowledge base has no article \(id.prefix(300)).")
        }
        return JSONBody(article)
    }

    func save(_ request: Request) async throws -> JSONBody<KnowledgeArticle> {
        let id = try id(request)
        var article = try request.content.decode(KnowledgeArticle.self)
        guard article.id.isEmpty || article.id == id else {
            throw ConnectorError.invalid("The body's id \(article.id.prefix(300)) is not the path's \(id.prefix(300)).")
        }
        article.id = id
        let knowledgeBase = knowledgeBase(request)
        let saved = try await knowledgeBase.save(article)
        await reindex(request, knowledgeBase)
        return JSONBody(saved.article, status: saved.created ? .created : .ok)
    }

    func retire(_ request: Request) async throws -> JSONBody<KnowledgeArticle> {
        let id = try id(request)
        let knowledgeBase = knowledgeBase(request)
        guard let retired = try await knowledgeBase.retire(id: id) else {
            throw ConnectorError.notFound("The knowledge base has no article \(id.prefix(300)).")
        }
        await reindex(request, knowledgeBase)
        return JSONBody(retired)
    }

    /// Rebuilds the index after a change, so the answer means "searchable now". The change itself is stored
    /// whatever happens here: a failed rebuild is logged and the next periodic refresh catches up.
    private func reindex(_ request: Request, _ knowledgeBase: KnowledgeBase) async {
        do {
            try await request.application.connector.solutions.refresh(from: knowledgeBase, logger: request.logger)
        } catch {
            request.logger.error(
                "The knowledge base index was not rebuilt after a change; the next refresh will",
                metadata: ["error": "\(String(reflecting: error))", "correlation_id": "\(request.id)"])
        }
    }
}

import Foundation

/// `POST /api/v1/recommendedSolutions`: a problem in the desk's words.
package struct RecommendedSolutionsRequest: Codable, Sendable {
    /// The problem text: the incident's short description and description joined with a space, or what the agent
    /// typed in the search box.
    package var text: String
    /// A product the desk names (`Exchange Online`, `Teams`…): its articles lead among equal matches.
    package var product: String?
    /// How many solutions, 1 to ``RecommendedSolutionsRequest/maxTop`` (default 5).
    package var top: Int?

    package static let defaultTop = 5
    package static let maxTop = 50
    /// The longest text searched, in characters; a longer one is refused.
    package static let maxTextLength = 20_000

    package init(text: String, product: String? = nil, top: Int? = nil) {
        self.text = text
        self.product = product
        self.top = top
    }
}

/// The answer: ranked articles and the caller's tenant's active service health issues related to the text.
package struct RecommendedSolutions: Codable, Sendable, Equatable {
    package var solutions: [Solution]
    package var serviceHealthIssues: [RelatedHealthIssue]

    package init(solutions: [Solution], serviceHealthIssues: [RelatedHealthIssue]) {
        self.solutions = solutions
        self.serviceHealthIssues = serviceHealthIssues
    }

    package struct Solution: Codable, Sendable, Equatable {
        package var id: String
        package var title: String
        package var product: String
        package var url: String
        package var score: Double
        /// Text of the article with the matched words in `<c0>`…`</c0>` and cuts as `<ddd/>`, as Microsoft Search
        /// marks hits; the article's own `&`, `<`, `>` are escaped, so those are the only tags.
        package var snippet: String

        package init(id: String, title: String, product: String, url: String, score: Double, snippet: String) {
            self.id = id
            self.title = title
            self.product = product
            self.url = url
            self.score = score
            self.snippet = snippet
        }
    }

    /// An active issue of the tenant's service health (Graph's `serviceHealthIssue` fields, without posts) and
    /// why it was judged related.
    package struct RelatedHealthIssue: Codable, Sendable, Equatable {
        package var id: String
        package var title: String
        package var service: String?
        package var feature: String?
        package var classification: String?
        package var status: String?
        package var impactDescription: String?
        package var startDateTime: Date?
        package var lastModifiedDateTime: Date?
        /// The Graph path of the whole issue with its post history, relative to the Connector's base URL.
        package var issuePath: String
        package var matchedBecause: [String]

        package init(
            id: String, title: String, service: String?, feature: String?, classification: String?, status: String?,
            impactDescription: String?, startDateTime: Date?, lastModifiedDateTime: Date?, issuePath: String,
            matchedBecause: [String]
        ) {
            self.id = id
            self.title = title
            self.service = service
            self.feature = feature
            self.classification = classification
            self.status = status
            self.impactDescription = impactDescription
            self.startDateTime = startDateTime
            self.lastModifiedDateTime = lastModifiedDateTime
            self.issuePath = issuePath
            self.matchedBecause = matchedBecause
        }
    }
}

/// A solution article as the operator's API and CLI read and write it (`/admin/api/knowledgeBase/articles`); the
/// fields of the corpus format (`../shared/data/kb/articles.jsonl`).
package struct KnowledgeArticle: Codable, Sendable, Equatable {
    package var id: String
    package var title: String
    package var product: String
    package var url: String
    package var description: String
    package var symptoms: String
    package var cause: String
    package var resolution: String
    package var body: String
    /// The tenant (ID) that alone may find the article; absent: shared by every tenant.
    package var tenantId: String?
    /// Set by the Connector: when the article last changed, and whether it is retired (kept, not searched).
    package var updatedDateTime: Date?
    package var retired: Bool?

    package init(
        id: String, title: String, product: String = "", url: String = "", description: String = "",
        symptoms: String = "", cause: String = "", resolution: String = "", body: String = "", tenantId: String? = nil,
        updatedDateTime: Date? = nil, retired: Bool? = nil
    ) {
        self.id = id
        self.title = title
        self.product = product
        self.url = url
        self.description = description
        self.symptoms = symptoms
        self.cause = cause
        self.resolution = resolution
        self.body = body
        self.tenantId = tenantId
        self.updatedDateTime = updatedDateTime
        self.retired = retired
    }

    private enum CodingKeys: String, CodingKey {
        case id, title, product, url, description, symptoms, cause, resolution, body, tenantId, updatedDateTime,
            retired
    }

    /// Only `title` is required besides the ID (which the path may give): the other texts default to empty.
    package init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        id = try container.decodeIfPresent(String.self, forKey: .id) ?? ""
        title = try container.decode(String.self, forKey: .title)
        product = try container.decodeIfPresent(String.self, forKey: .product) ?? ""
        url = try container.decodeIfPresent(String.self, forKey: .url) ?? ""
        description = try container.decodeIfPresent(String.self, forKey: .description) ?? ""
        symptoms = try container.decodeIfPresent(String.self, forKey: .symptoms) ?? ""
        cause = try container.decodeIfPresent(String.self, forKey: .cause) ?? ""
        resolution = try container.decodeIfPresent(String.self, forKey: .resolution) ?? ""
        body = try container.decodeIfPresent(String.self, forKey: .body) ?? ""
        tenantId = try container.decodeIfPresent(String.self, forKey: .tenantId)
        updatedDateTime = try container.decodeIfPresent(Date.self, forKey: .updatedDateTime)
        retired = try container.decodeIfPresent(Bool.self, forKey: .retired)
    }
}

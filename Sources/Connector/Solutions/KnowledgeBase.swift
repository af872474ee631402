import Fluent
import Foundation
import SQLKit
import ServerSupport
import SolutionSearch
import Vapor
import WireModels

/// The solution articles the Connector serves, shared by all tenants: imported from JSON Lines in the corpus
/// format, inserted or updated by ID in batches, each batch in one transaction.
package struct KnowledgeBase: Sendable {
    let database: any Database
    let now: @Sendable () -> Date

    package init(database: any Database, now: @escaping @Sendable () -> Date = { Date() }) {
        self.database = database
        self.now = now
    }

    static let table = "connector_kb_articles"
    package static let batchSize = 200

    /// What an import did.
    package struct ImportReport: Sendable, Equatable, Codable {
        package var inserted = 0
        package var updated = 0
        /// Lines that are not articles, by number, with why; nothing of them was written.
        package var refused: [Refusal] = []

        package struct Refusal: Sendable, Equatable, Codable {
            package let line: Int
            package let reason: String
        }
    }

    /// Imports `data` (JSON Lines); `progress` hears (articles written, articles in the file) after each batch.
    package func importJSONLines(_ data: Data, progress: (Int, Int) -> Void = { _, _ in }) async throws -> ImportReport
    {
        let read = Article.readJSONLines(data)
        var report = ImportReport(refused: read.refused.map { .init(line: $0.line, reason: $0.reason) })
        var articles: [Article] = []
        // A file may hold an article twice (an export appended to): the later line is the article, as a second
        // import of it would make it; the earlier is reported, not written.
        var lineOf: [String: (line: Int, at: Int)] = [:]
        for (offset, article) in read.articles.enumerated() {
            let line = read.lines[offset]
            if let reason = Self.problem(article) {
                report.refused.append(.init(line: line, reason: reason))
            } else if let earlier = lineOf[article.id] {
                report.refused.append(
                    .init(line: earlier.line, reason: "the same id comes again on line \(line), which is imported"))
                articles[earlier.at] = article
                lineOf[article.id] = (line, earlier.at)
            } else {
                lineOf[article.id] = (line, articles.count)
                articles.append(article)
            }
        }
        var written = 0
        for start in stride(from: 0, to: articles.count, by: Self.batchSize) {
            let batch = Array(articles[start..<min(start + Self.batchSize, articles.count)])
            let stamp = now().timeIntervalSince1970
            let (inserted, updated) = try await database.transaction { database -> (Int, Int) in
                let sql = try database.asSQL()
                try await Self.lockForWriting(sql)
                let existing = Set(
                    try await sql.select().column("article_id").from(Self.table)
                        .where("article_id", .in, batch.map(\.id)).all()
                        .map { try $0.decode(column: "article_id", as: String.self) })
                for article in batch {
                    try await Self.write(article, exists: existing.contains(article.id), stamp: stamp, sql: sql)
                }
                try await Self.advanceRevision(sql)
                return (batch.count - existing.count, existing.count)
            }
            report.inserted += inserted
            report.updated += updated
            written += batch.count
            progress(written, articles.count)
        }
        report.refused.sort { $0.line < $1.line }
        return report
    }

    /// Writes one article, changed at `stamp`. An import (`single` false) updates an existing article's texts
    /// only: a tenant's private article stays private and a retired one stays retired; the operator's save of one
    /// article sets both (and so brings a retired article back).
    private static func write(
        _ article: Article, exists: Bool, stamp: Double, sql: any SQLDatabase, single: Bool = false
    ) async throws {
        var values: [(String, SQLBind)] = [
            ("title", SQLBind(article.title)), ("product", SQLBind(article.product)),
            ("url", SQLBind(article.url)), ("description", SQLBind(article.description)),
            ("symptoms", SQLBind(article.symptoms)), ("cause", SQLBind(article.cause)),
            ("resolution", SQLBind(article.resolution)), ("body", SQLBind(article.body)),
            ("updated_at", SQLBind(stamp)),
        ]
        if single || !exists {
            values += [("tenant_id", SQLBind(article.tenant)), ("retired", SQLBind(false))]
        }
        if exists {
            var update = sql.update(Self.table)
            for (column, value) in values { update = update.set(SQLIdentifier(column), to: value) }
            try await update.where("article_id", .equal, article.id).run()
        } else {
            let row = [("article_id", SQLBind(article.id))] + values
            try await sql.insert(into: Self.table).columns(row.map(\.0)).values(row.map(\.1)).run()
        }
    }

    // MARK: Single articles (the operator's API and CLI)

    /// Adds `article` or replaces the article with its ID (bringing a retired one back); `created` says which.
    package func save(_ article: KnowledgeArticle) async throws -> Saved {
        var checked = Article(article)
        if let tenant = article.tenantId {
            checked.tenant = try await TenantStore(sql: try database.asSQL(), now: now).require(tenant).tenantId
        }
        let searchable = checked
        if let reason = Self.problem(searchable) { throw ConnectorError.invalid("The article is refused: \(reason).") }
        let stamp = now().timeIntervalSince1970
        let created = try await database.transaction { database -> Bool in
            let sql = try database.asSQL()
            try await Self.lockForWriting(sql)
            let exists =
                try await sql.select().column("article_id").from(Self.table)
                .where("article_id", .equal, article.id).first() != nil
            try await Self.write(searchable, exists: exists, stamp: stamp, sql: sql, single: true)
            try await Self.advanceRevision(sql)
            return !exists
        }
        guard let saved = try await self.article(id: article.id) else {
            throw ConnectorError(.internalServerError, .internalError, "The article was not saved.")
        }
        return Saved(article: saved, created: created)
    }

    package struct Saved: Sendable, Encodable {
        package let article: KnowledgeArticle
        package let created: Bool
    }

    /// Takes an article out of search and keeps it (a later save brings it back); nil when there is none.
    package func retire(id: String) async throws -> KnowledgeArticle? {
        let stamp = now().timeIntervalSince1970
        let found = try await database.transaction { database -> Bool in
            let sql = try database.asSQL()
            try await Self.lockForWriting(sql)
            guard
                try await sql.select().column("article_id").from(Self.table).where("article_id", .equal, id)
                    .first() != nil
            else { return false }
            try await sql.update(Self.table).set("retired", to: true).set("updated_at", to: stamp)
                .where("article_id", .equal, id).run()
            try await Self.advanceRevision(sql)
            return true
        }
        return found ? try await article(id: id) : nil
    }

    /// The article with `id`, retired or not.
    package func article(id: String) async throws -> KnowledgeArticle? {
        try await database.asSQL().select().columns("*").from(Self.table).where("article_id", .equal, id)
            .first(decoding: Row.self)?.wire
    }

    static let stateTable = "connector_kb_state"

    /// Each change reads (does the article exist?) before it writes: on SQLite it takes the write lock first, so
    /// changes made at once wait for each other instead of failing.
    private static func lockForWriting(_ sql: any SQLDatabase) async throws {
        try await sql.lockForWriting(table: stateTable, column: "revision")
    }

    /// Moves the revision on, inside the transaction of a change.
    private static func advanceRevision(_ sql: any SQLDatabase) async throws {
        try await sql.update(stateTable)
            .set("revision", to: SQLBinaryExpression(SQLIdentifier("revision"), .add, SQLLiteral.numeric("1")))
            .where("name", .equal, "articles").run()
    }

    /// The knowledge base's revision: it moves on with every change of articles (see
    /// `CreateKnowledgeBaseRevision`). One indexed read, cheap enough every few seconds.
    package func revision() async throws -> Int {
        try await database.asSQL().select().column("revision").from(Self.stateTable)
            .where("name", .equal, "articles").first()?.decode(column: "revision", as: Int.self) ?? 0
    }

    package var isEmpty: Bool {
        get async throws {
            try await database.asSQL().select().column("article_id").from(Self.table).limit(1).first() == nil
        }
    }

    private struct Row: Decodable {
        let article_id: String
        let title: String
        let product: String
        let url: String
        let description: String
        let symptoms: String
        let cause: String
        let resolution: String
        let body: String
        let tenant_id: String?
        let updated_at: Double
        let retired: Bool

        var article: Article {
            Article(
                id: article_id, title: title, product: product, url: url, description: description,
                symptoms: symptoms, cause: cause, resolution: resolution, body: body, tenant: tenant_id)
        }

        var wire: KnowledgeArticle {
            KnowledgeArticle(
                id: article_id, title: title, product: product, url: url, description: description,
                symptoms: symptoms, cause: cause, resolution: resolution, body: body, tenantId: tenant_id,
                updatedDateTime: Date(timeIntervalSince1970: updated_at), retired: retired)
        }
    }

    /// Every article in service (not retired).
    package func articles() async throws -> [Article] {
        try await database.asSQL().select().columns("*").from(Self.table).where("retired", .equal, false)
            .orderBy("article_id").all(decoding: Row.self).map(\.article)
    }

    /// Why an article cannot be stored, or nil.
    static func problem(_ article: Article) -> String? {
        guard (1...300).contains(article.id.utf8.count), !article.id.unicodeScalars.contains(where: { $0.value < 0x20 })
        else { return "the id is empty, longer than 300 bytes or has control characters" }
        guard !article.title.trimmingCharacters(in: .whitespaces).isEmpty, article.title.utf8.count <= 1000 else {
            return "the title is empty or longer than 1000 bytes"
        }
        let size = [article.description, article.symptoms, article.cause, article.resolution, article.body]
            .reduce(0) { $0 + $1.utf8.count }
        guard size <= 1_000_000 else { return "the article is larger than 1 MB" }
        for text in [article.title, article.body, article.description] where text.contains("\u{0}") {
            return "the text has a NUL character"
        }
        return nil
    }
}

extension Article {
    init(_ article: KnowledgeArticle) {
        self.init(
            id: article.id, title: article.title, product: article.product, url: article.url,
            description: article.description, symptoms: article.symptoms, cause: article.cause,
            resolution: article.resolution, body: article.body, tenant: article.tenantId)
    }
}

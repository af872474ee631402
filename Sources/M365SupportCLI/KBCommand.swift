import ArgumentParser
import Connector
import Foundation
import SolutionSearch
import WireModels

struct KBCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "kb", abstract: "The solutions knowledge base and its search.",
        subcommands: [Import.self, Show.self, Put.self, Retire.self, Eval.self, Search.self])

    static let modelHelp =
        "The sentence encoder's folder (default: M365_CONNECTOR_SEMANTIC_MODEL, else DATA/models/all-MiniLM-L6-v2 if installed by scripts/install-semantic-model.sh)."

    /// The engine's parts, less those `without` names (comma-separated), or none with `baseline`.
    static func options(baseline: Bool, without: String?) throws -> SearchOptions {
        if baseline { return .baseline }
        var options = SearchOptions()
        for part in (without ?? "").split(separator: ",") {
            switch part.trimmingCharacters(in: .whitespaces) {
            case "fields": options.fieldWeights = false
            case "stemming": options.stemming = false
            case "expansions": options.expansions = false
            case "typos": options.typoTolerance = false
            case "products": options.productBoost = false
            case "codes": options.codeBoost = false
            case "phrases": options.phrases = false
            case "proximity": options.proximity = false
            case "semantic": options.semantic = false
            case "distilled": options.distilledQueries = false
            default: throw ValidationError("Unknown part '\(part)'.")
            }
        }
        return options
    }

    struct Eval: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Score the search on labelled queries: MRR@10, nDCG@10, Recall@10, by style and product.")

        @Argument(help: "Labelled queries, JSON Lines (`query`, or `short_description` + `description`).")
        var queries: String

        @OptionGroup var store: ConnectorStore

        @Option(help: "Articles, JSON Lines in the corpus format (default: the Connector's knowledge base in DATA).")
        var articles: String?

        @Flag(help: "Plain BM25 on title + body: every improvement off.")
        var baseline = false

        @Option(
            help:
                "Turn parts off, comma-separated: fields, stemming, expansions, typos, products, codes, phrases, proximity, semantic, distilled (queries read by the sentence encoder instead of the query encoder learned from it) — to measure each."
        )
        var without: String?

        @Option(help: ArgumentHelp(KBCommand.modelHelp))
        var model: String?

        @Flag(help: "Also print each query's rank of its first relevant article (0: not in the top 10).")
        var verbose = false

        @Option(
            help:
                "Put typing slips (a letter dropped, doubled, swapped or a neighbouring key) into this share (0-1) of each query's words, at least one per query, to measure typo tolerance on every query."
        )
        var misspell: Double?

        @Option(help: "The slips' seed: the same seed, the same slips.")
        var seed: UInt64 = 1

        func validate() throws {
            if let misspell, !(0...1).contains(misspell) {
                throw ValidationError("--misspell takes a share from 0 to 1.")
            }
        }

        var options: SearchOptions {
            get throws { try KBCommand.options(baseline: baseline, without: without) }
        }

        func run() async throws {
            var labelled: [LabelledQuery]
            do {
                labelled = try LabelledQuery.read(try readFile(queries))
            } catch let error as EvaluationError {
                throw CommandFailure(message: "\(queries): \(error.message)")
            }
            guard !labelled.isEmpty else { throw CommandFailure(message: "\(queries) holds no labelled queries.") }
            if let misspell {
                let misspeller = Misspeller(rate: misspell, seed: seed)
                var slips = 0
                labelled = labelled.map { query in
                    let (text, words) = misspeller.misspell(query.text)
                    slips += words
                    return LabelledQuery(
                        id: query.id, text: text, relevant: query.relevant, product: query.product, style: query.style)
                }
                FileHandle.standardError.write(Data("\(slips) words misspelled in \(labelled.count) queries\n".utf8))
            }
            let index = try await store.index(file: articles, options: try options, model: model)
            // One pass first, so the latency figures are of a warm index, as a running Connector's is.
            for query in labelled { _ = index.search(query.text, limit: Evaluation.k) }
            index.forgetRecentQueries()
            let evaluation = Evaluation.run(labelled) { query in
                let ranking = index.search(query.text, limit: Evaluation.k).map(\.id)
                if verbose {
                    let rank = ranking.firstIndex { (query.relevant[$0] ?? 0) > 0 }.map { $0 + 1 } ?? 0
                    print("\(query.id)\t\(rank)\t\(query.style ?? "")\t\(query.text.prefix(100))")
                }
                return ranking
            }
            if store.json {
                let encoder = JSONEncoder()
                encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
                print(String(decoding: try encoder.encode(evaluation), as: UTF8.self))
            } else {
                print(evaluation.text)
            }
        }
    }

    struct Search: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Search the articles and print the best ten.")

        @Argument(help: "Problem text.") var text: String
        @OptionGroup var store: ConnectorStore
        @Option(help: "Articles, JSON Lines in the corpus format (default: the Connector's knowledge base in DATA).")
        var articles: String?
        @Option(help: "Product named by the desk.") var product: String?
        @Option(help: "Turn parts off (see kb eval --without).") var without: String?
        @Option(help: ArgumentHelp(KBCommand.modelHelp)) var model: String?

        func run() async throws {
            let index = try await store.index(
                file: articles, options: try KBCommand.options(baseline: false, without: without), model: model)
            let hits = index.search(text, product: product, limit: 10)
            if store.json {
                // As the Connector answers `recommendedSolutions`.
                let query = Snippet.Query(text, in: index)
                try printJSON(hits.compactMap { RecommendedSolutions.Solution($0, in: index, query: query) })
                return
            }
            for (rank, hit) in hits.enumerated() {
                print(String(format: "%2d  %7.3f  %@", rank + 1, hit.score, hit.id))
                if let article = index.article(id: hit.id) {
                    print("             " + Snippet.make(for: article, query: text, in: index))
                }
            }
        }
    }
}

extension KBCommand {
    /// `kb import FILE.jsonl`: into the Connector's database in DATA.
    struct Import: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Import solution articles (JSON Lines in the corpus format) into the Connector's database.")

        @OptionGroup var store: ConnectorStore
        @Argument(help: "The JSON Lines file.") var file: String

        func run() async throws {
            let data = try readFile(file)
            let progress = ProgressPrinter(unit: "articles", step: 500)
            try await store.run(
                { operations in
                    let report = try await operations.knowledgeBase.importJSONLines(data) { written, total in
                        progress.update(written, of: total)
                    }
                    progress.finish()
                    return report
                },
                describe: { report in
                    let imported = report.inserted + report.updated
                    var lines = [
                        "Imported \(imported) \(imported == 1 ? "article" : "articles") (\(report.inserted) new, \(report.updated) updated)."
                    ]
                    for refusal in report.refused.prefix(50) {
                        lines.append("\(file):\(refusal.line): skipped, \(refusal.reason)")
                    }
                    if report.refused.count > 50 {
                        lines.append("… and \(report.refused.count - 50) more lines skipped")
                    }
                    return lines.joined(separator: "\n")
                })
        }
    }
}

extension KBCommand {
    /// `kb show ID`.
    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Print one article of the knowledge base.")

        @OptionGroup var store: ConnectorStore
        @Argument(help: "The article's ID.") var id: String

        func run() async throws {
            try await store.run(
                { operations in
                    guard let article = try await operations.knowledgeBase.article(id: id) else {
                        throw CommandFailure(message: "The knowledge base has no article \(id).")
                    }
                    return article
                }, describe: KBCommand.describe)
        }
    }

    /// `kb put FILE.json`: one article, added or replaced by ID.
    struct Put: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Add an article, or replace the one with its ID (a retired one comes back).",
            discussion:
                "FILE holds one JSON object in the corpus format (id, title, product, url, description, symptoms, "
                + "cause, resolution, body; tenantId makes it private to that tenant); `-` reads it from standard "
                + "input. A running Connector searches the "
                + "change within \(Int(SolutionCatalog.refreshInterval)) seconds.")

        @OptionGroup var store: ConnectorStore
        @Argument(help: "The article as JSON, or - for standard input.") var file: String

        func run() async throws {
            let data =
                file == "-"
                ? FileHandle.standardInput.readDataToEndOfFile() : try readFile(file)
            let article: KnowledgeArticle
            do {
                article = try JSONDecoder().decode(KnowledgeArticle.self, from: data)
            } catch {
                throw CommandFailure(message: "\(file) is not an article: one JSON object with at least id and title.")
            }
            try await store.run(
                { operations in try await operations.knowledgeBase.save(article) },
                describe: { "\($0.created ? "Added" : "Replaced") \($0.article.id)." })
        }
    }

    /// `kb retire ID`.
    struct Retire: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Take an article out of search; it is kept, and `kb put` brings it back.")

        @OptionGroup var store: ConnectorStore
        @Argument(help: "The article's ID.") var id: String

        func run() async throws {
            try await store.run(
                { operations in
                    guard let article = try await operations.knowledgeBase.retire(id: id) else {
                        throw CommandFailure(message: "The knowledge base has no article \(id).")
                    }
                    return article
                }, describe: { "Retired \($0.id)." })
        }
    }

    static func describe(_ article: KnowledgeArticle) -> String {
        var lines = [
            article.id + (article.retired == true ? " (retired)" : ""), article.title,
            "product: \(article.product)", "url: \(article.url)",
        ]
        if let tenant = article.tenantId { lines.append("private to tenant: \(tenant)") }
        if let updated = article.updatedDateTime { lines.append("updated: \(updated)") }
        for (name, text) in [
            ("description", article.description), ("symptoms", article.symptoms), ("cause", article.cause),
            ("resolution", article.resolution),
        ] where !text.isEmpty {
            lines.append("\(name): \(text.prefix(300))")
        }
        return lines.joined(separator: "\n")
    }
}

extension ConnectorStore {
    /// Articles from `file` (JSON Lines), or else the Connector's knowledge base.
    func articles(file: String?) async throws -> [Article] {
        if let file {
            let loaded = Article.readJSONLines(try readFile(file))
            for (line, reason) in loaded.refused.prefix(20) {
                FileHandle.standardError.write(Data("\(file):\(line): skipped, \(reason)\n".utf8))
            }
            return loaded.articles
        }
        var articles: [Article] = []
        try await run(
            { operations in
                articles = try await operations.knowledgeBase.articles()
                return articles.count
            }, describe: { _ in "" }, quiet: true)
        guard !articles.isEmpty else {
            throw CommandFailure(message: "The knowledge base is empty: run `m365-support kb import FILE.jsonl` first.")
        }
        return articles
    }

    /// The index of the articles (`file`, or the knowledge base), semantic when a model is there and `options`
    /// want it: vectors stored in the Connector's database are reused (the server's too), missing ones encoded
    /// with progress and stored.
    func index(file: String?, options: SearchOptions, model: String?) async throws -> SolutionIndex {
        let articles = try await articles(file: file)
        guard options.semantic else { return SolutionIndex(articles: articles, options: options) }
        let folder: URL
        if let model {
            folder = URL(fileURLWithPath: model)
        } else {
            let config = try ConnectorConfig.load(
                environment: data.environment, dataDirectory: data.dataURL, tls: nil, masterKey: try data.masterKey(),
                database: databaseURL)
            guard let installed = config.semanticModel else {
                FileHandle.standardError.write(
                    Data(
                        "note: no sentence encoder installed, the search is lexical (scripts/install-semantic-model.sh)\n"
                            .utf8))
                return SolutionIndex(articles: articles, options: options)
            }
            folder = installed
        }
        let encoder: SentenceEncoder
        do {
            encoder = try SentenceEncoder(folder: folder)
        } catch {
            throw CommandFailure(message: "The sentence encoder in \(folder.path) cannot be read: \(error)")
        }
        let sentences =
            options.distilledQueries ? DistilledQueryEncoder.trainingTexts(of: articles) : []
        var built: SolutionIndex?
        try await run(
            { operations in
                let store = ArticleVectors(database: operations.app.db)
                let stored = try await store.stored(for: articles, encoder: encoder)
                var vectors = stored.vectors
                if !stored.missing.isEmpty {
                    FileHandle.standardError.write(
                        Data("Encoding \(stored.missing.count) articles (kept for the next run)…\n".utf8))
                    let progress = ProgressPrinter(unit: "articles", step: 200)
                    let encoded = try await store.encode(stored.missing, encoder: encoder) {
                        progress.update($0, of: $1)
                    }
                    progress.finish()
                    vectors.merge(encoded) { _, new in new }
                }
                guard sentences.count >= DistilledQueryEncoder.minimumTexts else {
                    built = SolutionIndex(articles: articles, options: options, semantic: (encoder, vectors))
                    return vectors.count
                }
                // The one the Connector (or an earlier run) learned from these sentences, else learned now and kept.
                let encoders = QueryEncoders(database: operations.app.db)
                if let learned = try await encoders.stored(sentences: sentences, encoder: encoder) {
                    built = SolutionIndex(
                        articles: articles, options: options, semantic: (encoder, vectors), queryEncoder: learned)
                    return vectors.count
                }
                let storedSentences = try await store.stored(sentences: sentences, encoder: encoder)
                var queryTraining = storedSentences.vectors
                if !storedSentences.missing.isEmpty {
                    FileHandle.standardError.write(
                        Data(
                            "Encoding \(storedSentences.missing.count) sentences to learn the query encoder from (kept for the next run)…\n"
                                .utf8))
                    let progress = ProgressPrinter(unit: "sentences", step: 2000)
                    queryTraining += try await store.encode(sentences: storedSentences.missing, encoder: encoder) {
                        progress.update($0, of: $1)
                    }
                    progress.finish()
                }
                let index = SolutionIndex(
                    articles: articles, options: options, semantic: (encoder, vectors), queryTraining: queryTraining)
                built = index
                if let learned = index.distilledQueryEncoder {
                    try await encoders.store(learned, sentences: sentences)
                }
                return vectors.count
            }, describe: { _ in "" }, quiet: true)
        let index = built ?? SolutionIndex(articles: articles, options: options)
        FileHandle.standardError.write(
            Data(
                "note: semantic re-scoring on (\(folder.path)), queries read by the \(index.queryEncoder.rawValue)\n"
                    .utf8))
        return index
    }
}

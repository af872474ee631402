import ArgumentParser
import Foundation
import SolutionSearch

struct KBCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "kb", abstract: "The solutions knowledge base and its search.",
        subcommands: [Eval.self, Search.self])

    struct Eval: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Score the search on labelled queries: MRR@10, nDCG@10, Recall@10, by style and product.")

        @Argument(help: "Labelled queries, JSON Lines (`query`, or `short_description` + `description`).")
        var queries: String

        @Option(help: "Articles, JSON Lines in the corpus format.")
        var articles: String

        @Flag(help: "Plain BM25 on title + body: every improvement off.")
        var baseline = false

        @Option(
            help:
                "Turn parts off, comma-separated: fields, stemming, expansions, typos, products, codes, phrases (to measure each)."
        )
        var without: String?

        @Flag(help: "Print the figures as JSON.")
        var json = false

        @Flag(help: "Also print each query's rank of its first relevant article (0: not in the top 10).")
        var verbose = false

        var options: SearchOptions {
            get throws {
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
                    default: throw ValidationError("Unknown part '\(part)'.")
                    }
                }
                return options
            }
        }

        func run() async throws {
            let loaded = Article.readJSONLines(try Data(contentsOf: URL(fileURLWithPath: articles)))
            for (line, reason) in loaded.refused.prefix(20) {
                FileHandle.standardError.write(Data("\(articles):\(line): skipped, \(reason)\n".utf8))
            }
            let labelled = try LabelledQuery.read(try Data(contentsOf: URL(fileURLWithPath: queries)))
            let index = SolutionIndex(articles: loaded.articles, options: try options)
            let evaluation = Evaluation.run(labelled) { query in
                let ranking = index.search(query.text, limit: Evaluation.k).map(\.id)
                if verbose {
                    let rank = ranking.firstIndex { (query.relevant[$0] ?? 0) > 0 }.map { $0 + 1 } ?? 0
                    print("\(query.id)\t\(rank)\t\(query.style ?? "")\t\(query.text.prefix(100))")
                }
                return ranking
            }
            if json {
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
        @Option(help: "Articles, JSON Lines in the corpus format.") var articles: String
        @Option(help: "Product named by the desk.") var product: String?
        @Option(help: "Turn parts off (see kb eval --without).") var without: String?

        func run() async throws {
            var eval = try Eval.parse(["unused", "--articles", articles] + (without.map { ["--without", $0] } ?? []))
            eval.verbose = false
            let index = SolutionIndex(
                articles: Article.readJSONLines(try Data(contentsOf: URL(fileURLWithPath: articles))).articles,
                options: try eval.options)
            for (rank, hit) in index.search(text, product: product, limit: 10).enumerated() {
                print(String(format: "%2d  %7.3f  %@", rank + 1, hit.score, hit.id))
            }
        }
    }
}

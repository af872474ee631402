import Foundation

/// A labelled query: the text the desk sends and the graded articles that answer it.
public struct LabelledQuery: Sendable, Equatable {
    public let id: String
    public let text: String
    /// article id → grade (2: the source article, 1: clearly relevant).
    public let relevant: [String: Int]
    public let product: String?
    public let style: String?

    public init(id: String, text: String, relevant: [String: Int], product: String?, style: String?) {
        self.id = id
        self.text = text
        self.relevant = relevant
        self.product = product
        self.style = style
    }

    /// Reads JSON Lines in either development format: `query`, or `short_description` + `description` joined
    /// with a space (as the desk sends a ticket), with `relevant` grading articles by ID (whole numbers from 0 to
    /// ``maxGrade``). A line that is none of these is reported by number; blank lines are skipped.
    public static func read(_ data: Data) throws -> [LabelledQuery] {
        var queries: [LabelledQuery] = []
        for (number, line) in data.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false).enumerated() {
            guard !line.allSatisfy({ $0 == 32 || $0 == 13 || $0 == 9 }) else { continue }
            guard let object = try? JSONSerialization.jsonObject(with: Data(line)) as? [String: Any] else {
                throw EvaluationError(message: "line \(number + 1) is not a JSON object")
            }
            let text: String
            if let query = object["query"] as? String {
                text = query
            } else if let short = object["short_description"] as? String {
                text = [short, object["description"] as? String ?? ""].joined(separator: " ")
            } else {
                throw EvaluationError(message: "line \(number + 1) has neither query nor short_description")
            }
            guard let graded = object["relevant"] as? [String: Any] else {
                throw EvaluationError(
                    message: "line \(number + 1) has no relevant object (article ID → grade) to score against")
            }
            var relevant: [String: Int] = [:]
            for (id, value) in graded {
                let grade = (value as? NSNumber)?.doubleValue ?? -1
                guard grade >= 0, grade <= Double(maxGrade), grade == grade.rounded() else {
                    throw EvaluationError(
                        message: "line \(number + 1) grades \(id.prefix(200)) \(String(describing: value).prefix(40)): "
                            + "grades are whole numbers from 0 to \(maxGrade)")
                }
                relevant[id] = Int(grade)
            }
            queries.append(
                LabelledQuery(
                    id: object["qid"] as? String ?? "line \(number + 1)", text: text, relevant: relevant,
                    product: object["product"] as? String, style: object["style"] as? String))
        }
        return queries
    }

    /// The highest grade a labelled query may give an article.
    public static let maxGrade = 100
}

public struct EvaluationError: Error, CustomStringConvertible {
    public let message: String
    public var description: String { message }
}

/// MRR@k, nDCG@k (gain = grade) and Recall@k (relevant = grade ≥ 1), overall and by style and product.
public struct Evaluation: Sendable, Codable, Equatable {
    public struct Scores: Sendable, Codable, Equatable {
        public var queries: Int
        public var mrr: Double
        public var ndcg: Double
        public var recall: Double
    }

    public var overall: Scores
    public var byStyle: [String: Scores]
    public var byProduct: [String: Scores]
    /// Search latency in milliseconds.
    public var p50: Double
    public var p99: Double

    public static let k = 10

    /// Runs every query through `search` and scores the rankings.
    public static func run(_ queries: [LabelledQuery], search: (LabelledQuery) -> [String]) -> Evaluation {
        var perQuery: [(LabelledQuery, Scores)] = []
        var times: [Double] = []
        for query in queries {
            let start = DispatchTime.now().uptimeNanoseconds
            let ranking = search(query)
            times.append(Double(DispatchTime.now().uptimeNanoseconds - start) / 1_000_000)
            perQuery.append((query, score(ranking: ranking, relevant: query.relevant)))
        }
        func mean(_ list: [Scores]) -> Scores {
            let n = Double(max(list.count, 1))
            return Scores(
                queries: list.count, mrr: list.reduce(0) { $0 + $1.mrr } / n,
                ndcg: list.reduce(0) { $0 + $1.ndcg } / n, recall: list.reduce(0) { $0 + $1.recall } / n)
        }
        let byStyle = Dictionary(grouping: perQuery) { $0.0.style ?? "none" }.mapValues { mean($0.map(\.1)) }
        let byProduct = Dictionary(grouping: perQuery) { $0.0.product ?? "none" }.mapValues { mean($0.map(\.1)) }
        let sorted = times.sorted()
        return Evaluation(
            overall: mean(perQuery.map(\.1)), byStyle: byStyle, byProduct: byProduct,
            p50: percentile(0.5, of: sorted), p99: percentile(0.99, of: sorted))
    }

    /// The `p` quantile (nearest rank) of ascending `sorted` values; 0 for none.
    public static func percentile(_ p: Double, of sorted: [Double]) -> Double {
        guard !sorted.isEmpty else { return 0 }
        return sorted[max(0, min(sorted.count - 1, Int((p * Double(sorted.count)).rounded(.up)) - 1))]
    }

    /// The scores of one ranking.
    public static func score(ranking: [String], relevant: [String: Int]) -> Scores {
        let top = Array(ranking.prefix(k))
        let rank = top.firstIndex { (relevant[$0] ?? 0) > 0 }
        let mrr = rank.map { 1 / Double($0 + 1) } ?? 0
        var dcg = 0.0
        for (position, id) in top.enumerated() {
            dcg += Double(relevant[id] ?? 0) / log2(Double(position) + 2)
        }
        var ideal = 0.0
        for (position, grade) in relevant.values.filter({ $0 > 0 }).sorted(by: >).prefix(k).enumerated() {
            ideal += Double(grade) / log2(Double(position) + 2)
        }
        let relevantCount = relevant.values.filter { $0 > 0 }.count
        let found = top.filter { (relevant[$0] ?? 0) > 0 }.count
        return Scores(
            queries: 1, mrr: mrr, ndcg: ideal > 0 ? dcg / ideal : 0,
            recall: relevantCount > 0 ? Double(found) / Double(relevantCount) : 0)
    }

    /// `MRR@10 0.xxx` lines, then the breakdowns.
    public var text: String {
        var lines = [
            String(format: "MRR@10 %.3f", overall.mrr), String(format: "nDCG@10 %.3f", overall.ndcg),
            String(format: "Recall@10 %.3f", overall.recall),
            String(format: "search p50 %.3f ms, p99 %.3f ms (%d queries)", p50, p99, overall.queries),
        ]
        for (title, table) in [("style", byStyle), ("product", byProduct)] {
            lines.append("by \(title):")
            for (name, scores) in table.sorted(by: { $0.key < $1.key }) {
                lines.append(
                    "  " + name.padding(toLength: 28, withPad: " ", startingAt: 0)
                        + String(
                            format: "n=%3d  MRR %.3f  nDCG %.3f  Recall %.3f", scores.queries, scores.mrr,
                            scores.ndcg, scores.recall))
            }
        }
        return lines.joined(separator: "\n")
    }
}

import Foundation
import WireModels

/// A tenant's active service health issues that plausibly explain a problem text: the issue's service is the
/// product named (or a product the text mentions), or the text shares enough informative words with the issue's
/// title, impact and feature. Recommended solutions show them beside the articles.
struct RelatedIssues {
    struct Match: Equatable {
        let issue: ServiceHealthIssue
        let score: Double
        /// Why it matched: the service, and the words shared.
        let reasons: [String]
    }

    /// Words people use for a product, pointing at words of the service's name as Graph writes it. Service
    /// names themselves come from the data; this only bridges everyday words to them.
    static let productWords: [String: [String]] = [
        "outlook": ["exchange"], "mail": ["exchange"], "email": ["exchange"], "e-mail": ["exchange"],
        "mailbox": ["exchange"], "exo": ["exchange"], "calendar": ["exchange"], "owa": ["exchange"],
        "teams": ["teams"], "meeting": ["teams"], "meetings": ["teams"], "chat": ["teams"],
        "sharepoint": ["sharepoint"], "spo": ["sharepoint"], "site": ["sharepoint"],
        "onedrive": ["onedrive"], "od4b": ["onedrive"], "sync": ["onedrive"],
        "intune": ["intune"], "compliance": ["intune"], "enrollment": ["intune"],
        "mfa": ["identity", "entra"], "sign-in": ["identity", "entra"], "signin": ["identity", "entra"],
        "login": ["identity", "entra"], "password": ["identity", "entra"], "aadsts": ["identity", "entra"],
        "authenticator": ["identity", "entra"], "entra": ["identity", "entra"],
        "excel": ["apps"], "word": ["apps"], "powerpoint": ["apps"], "office": ["apps"],
        "planner": ["planner"], "forms": ["forms"], "yammer": ["viva", "yammer"], "viva": ["viva"],
        "admin": ["suite"], "portal": ["suite"],
    ]

    /// ``productWords`` with keys and values written as ``words(_:)`` writes them.
    static let normalizedProductWords: [String: [String]] = Dictionary(
        productWords.map { key, values in
            (words(key).first ?? key, values.map { words($0).first ?? $0 })
        }, uniquingKeysWith: { $0 + $1 })

    static let stopWords: Set<String> = [
        "the", "and", "for", "with", "that", "this", "are", "was", "were", "not", "can", "cannot", "can't", "when",
        "from", "have", "has", "had", "but", "our", "your", "their", "they", "them", "you", "users", "user",
        "some", "may", "might", "any", "all", "get", "gets", "getting", "into", "out", "about", "after", "before",
        "since", "still", "also", "been", "being", "there", "here", "what", "which", "who", "how", "why", "unable",
        "able", "issue", "issues", "problem", "problems", "error", "errors", "please", "help", "today", "now",
        "microsoft", "office", "365", "online", "service", "services", "does", "doesn't", "don't", "its", "it's",
        "onto", "via", "per", "than", "then", "too", "very", "just", "more", "most", "will", "would", "could",
        "should", "one", "two", "see", "seeing", "using", "use", "used",
    ]

    /// The matches among `issues` for `text` (and `product`, a service or product name), best first.
    static func find(
        text: String, product: String?, in issues: [ServiceHealthIssue], limit: Int = 5
    ) -> [Match] {
        let textWords = Set(words(String(text.prefix(20_000))))
        let aliases = normalizedProductWords
        var serviceHints = Set(textWords.flatMap { aliases[$0] ?? [] })
        let productTokens = Set(words(product ?? ""))
        serviceHints.formUnion(productTokens.flatMap { aliases[$0] ?? [$0] })

        var matches: [Match] = []
        for issue in issues where issue.isResolved != true {
            let serviceTokens = Set(words(issue.service ?? ""))
            var score = 0.0
            var reasons: [String] = []
            let namedProduct =
                !productTokens.isEmpty
                && !productTokens.flatMap { aliases[$0] ?? [$0] }.allSatisfy { !serviceTokens.contains($0) }
            if namedProduct || !serviceHints.isDisjoint(with: serviceTokens) {
                score += namedProduct ? 3 : 2
                reasons.append("service \(issue.service ?? "")")
            }
            let issueWords = Set(
                words(
                    [issue.title, issue.impactDescription ?? "", issue.feature ?? "", issue.featureGroup ?? ""]
                        .joined(separator: " ")))
            let shared = textWords.intersection(issueWords).subtracting(serviceTokens)
            if !shared.isEmpty {
                score += Double(shared.count)
                reasons.append("words " + shared.sorted().joined(separator: ", "))
            }
            // One shared word alone is chance; with the service it is a lead.
            guard score >= 2 else { continue }
            matches.append(Match(issue: issue, score: score, reasons: reasons))
        }
        return Array(
            matches.sorted {
                $0.score != $1.score
                    ? $0.score > $1.score
                    : ($0.issue.lastModifiedDateTime ?? .distantPast) > ($1.issue.lastModifiedDateTime ?? .distantPast)
            }.prefix(max(0, limit)))
    }

    /// Lowercase words of three letters or more, without stop words; a plural `s` is dropped.
    static func words(_ text: String) -> [String] {
        text.lowercased().split { !($0.isLetter || $0.isNumber || $0 == "-") }.compactMap { raw in
            var word = raw.trimmingCharacters(in: CharacterSet(charactersIn: "-"))
            guard word.count >= 3, !stopWords.contains(word) else { return nil }
            if word.count > 4, word.hasSuffix("s"), !word.hasSuffix("ss") { word.removeLast() }
            return word
        }
    }
}

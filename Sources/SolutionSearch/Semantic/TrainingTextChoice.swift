/// ``DistilledQueryEncoder/trainingTexts(of:limit:)`` made again after some articles changed, reading only those:
/// choosing from every article costs 6 s of CPU at 50,000 articles, on every edit. The first choice keeps, for each
/// article, its candidates among the twice `limit` smallest hashes (with their texts), under a fingerprint of the
/// fields they come from; a later choice reads again only the articles whose fingerprint changed and picks from
/// what is kept. The texts are those `trainingTexts` gives — the `limit` smallest hashes, each with the text of its
/// first occurrence — as long as at least `limit` distinct candidates stay under the ceiling; when edits push it
/// below that, every article is read again.
public struct TrainingTextChoice: Sendable {
    public let limit: Int
    private var kept: [String: (fingerprint: UInt64, candidates: [Candidate])] = [:]
    /// Candidates whose hash is at or above it are not kept; nil keeps them all (fewer than twice `limit`
    /// distinct ones when every article was read).
    private var ceiling: UInt64?
    private var primed = false
    /// How many articles the last choice read.
    public private(set) var articlesRead = 0

    typealias Candidate = (hash: UInt64, text: String)

    public init(limit: Int = DistilledQueryEncoder.maximumTexts) {
        // Twice it is a heap's capacity.
        self.limit = min(max(0, limit), 1 << 30)
    }

    /// The training texts of `articles` (their IDs unique, as a knowledge base's are).
    public mutating func texts(of articles: [Article]) -> [String] {
        guard limit > 0 else { return [] }
        if primed, let texts = again(articles) { return texts }
        return fresh(articles)
    }

    /// Every article read; what the ceiling keeps of each remembered.
    private mutating func fresh(_ articles: [Article]) -> [String] {
        var smallest = BestOf<LargerHashIsWeaker>(capacity: 2 * limit)
        var inSmallest: Set<UInt64> = []
        var scratch: [UInt8] = []
        var lists: [[Candidate]] = []
        lists.reserveCapacity(articles.count)
        for article in articles {
            var list: [Candidate] = []
            DistilledQueryEncoder.candidates(
                of: article, scratch: &scratch, wanting: { inSmallest.contains($0) || smallest.wouldKeep($0) }
            ) { hash, text in
                if !inSmallest.contains(hash) {
                    let (entered, pushedOut) = smallest.offer(hash)
                    if entered { inSmallest.insert(hash) }
                    if let pushedOut { inSmallest.remove(pushedOut) }
                }
                list.append((hash, text))
            }
            lists.append(list)
        }
        // Full: the largest of the twice-`limit` smallest bounds what is kept (a candidate under it was offered
        // while the bound was higher, so every one is in its article's list).
        ceiling = smallest.isFull ? smallest.weakest.map { $0 == .max ? $0 : $0 + 1 } : nil
        kept = [:]
        for (article, list) in zip(articles, lists) {
            kept[article.id] = (
                Self.fingerprint(article), ceiling.map { bound in list.filter { $0.hash < bound } } ?? list
            )
        }
        primed = true
        articlesRead = articles.count
        return Self.choose(lists, limit: limit) ?? []
    }

    /// Only changed articles read; nil when too few candidates stay under the ceiling (or IDs repeat).
    private mutating func again(_ articles: [Article]) -> [String]? {
        var lists: [[Candidate]] = []
        lists.reserveCapacity(articles.count)
        var seen: Set<String> = []
        var read = 0
        var scratch: [UInt8] = []
        let bound = ceiling
        for article in articles {
            guard seen.insert(article.id).inserted else { return nil }
            let fingerprint = Self.fingerprint(article)
            if let entry = kept[article.id], entry.fingerprint == fingerprint {
                lists.append(entry.candidates)
                continue
            }
            var list: [Candidate] = []
            DistilledQueryEncoder.candidates(
                of: article, scratch: &scratch, wanting: { hash in bound.map { hash < $0 } ?? true }
            ) { list.append(($0, $1)) }
            kept[article.id] = (fingerprint, list)
            lists.append(list)
            read += 1
        }
        if kept.count > seen.count { kept = kept.filter { seen.contains($0.key) } }
        articlesRead = read
        return Self.choose(lists, limit: limit, atLeastLimit: bound != nil)
    }

    /// The `limit` smallest distinct hashes of `lists`, each with the text of its first occurrence, by hash; nil
    /// when `atLeastLimit` and fewer than `limit` are distinct (below a ceiling, others may be smaller).
    private static func choose(_ lists: [[Candidate]], limit: Int, atLeastLimit: Bool = false) -> [String]? {
        var first: [UInt64: String] = [:]
        for list in lists {
            for candidate in list where first[candidate.hash] == nil { first[candidate.hash] = candidate.text }
        }
        guard !atLeastLimit || first.count >= limit else { return nil }
        return first.sorted { $0.key < $1.key }.prefix(limit).map(\.value)
    }

    /// A hash of the fields the training texts come from.
    static func fingerprint(_ article: Article) -> UInt64 {
        var hash = FNV1a()
        for field in [article.title, article.description, article.symptoms, article.cause, article.resolution] {
            for byte in field.utf8 { hash.add(byte) }
            hash.add(0xff)
        }
        for byte in article.body.utf8 { hash.add(byte) }
        return hash.value
    }

    enum LargerHashIsWeaker: Ranking {
        static func weaker(_ a: UInt64, _ b: UInt64) -> Bool { a > b }
    }
}

/// Turns text into index terms: lowercase tokens of letters and digits (a dot between digits stays, so
/// `5.7.133` is one term), apostrophes dropped inside words (`can't` → `cant`), stop words removed, English
/// words stemmed (Porter). Tokens with digits — error codes, versions — are kept as they are.
enum Analyzer {
    /// The raw tokens of `text`, lowercased, before stop words and stemming.
    static func tokens(_ text: String) -> [String] {
        var tokens: [String] = []
        var current: [UInt8] = []
        let bytes = Array(text.utf8)
        var index = 0
        func flush() {
            if !current.isEmpty {
                if current.count <= 64 {
                    if let split = unitSplit(current) {
                        // The amount itself is no code and rarely the amount an article names; the bits of an
                        // architecture (`64bit`) are.
                        let unit = String(decoding: current[split...], as: UTF8.self)
                        if unit.hasPrefix("bit") { tokens.append(String(decoding: current[..<split], as: UTF8.self)) }
                        tokens.append(unit)
                    } else {
                        tokens.append(String(decoding: current, as: UTF8.self))
                    }
                }
                current.removeAll(keepingCapacity: true)
            }
        }
        while index < bytes.count {
            var byte = bytes[index]
            if byte >= 65 && byte <= 90 { byte += 32 }
            let isLetterOrDigit = (byte >= 97 && byte <= 122) || (byte >= 48 && byte <= 57)
            if isLetterOrDigit {
                current.append(byte)
            } else if byte >= 0x80 {
                // Non-ASCII: letters of other scripts stay in the token, and typographic apostrophes (’) are
                // dropped like ASCII ones.
                if byte == 0xE2, index + 2 < bytes.count, bytes[index + 1] == 0x80, bytes[index + 2] == 0x99 {
                    index += 3
                    continue
                }
                current.append(byte)
            } else if byte == 39, !current.isEmpty, index + 1 < bytes.count, isAlpha(bytes[index + 1]) {
                // can't, we're, user's
            } else if byte == 46, let last = current.last, last >= 48 && last <= 57, index + 1 < bytes.count,
                bytes[index + 1] >= 48 && bytes[index + 1] <= 57
            {
                current.append(byte)
            } else {
                flush()
            }
            index += 1
        }
        flush()
        return tokens
    }

    /// Where an amount written together with its unit (`20gb`, `500ms`, `64bit`, `30secs`) splits: the unit is a
    /// word articles write apart (`20 GB`, `64-bit`); nil for anything else, so codes (`0x8004de40`, `2fa`, `404s`)
    /// stay whole.
    private static func unitSplit(_ token: [UInt8]) -> Int? {
        guard let first = token.first, first >= 48 && first <= 57 else { return nil }
        var split = 0
        while split < token.count, (token[split] >= 48 && token[split] <= 57) || token[split] == 46 { split += 1 }
        guard split < token.count, token[split - 1] != 46, token.count - split <= 5 else { return nil }
        return units.contains(String(decoding: token[split...], as: UTF8.self)) ? split : nil
    }

    static let units: Set<String> = [
        "kb", "mb", "gb", "tb", "gig", "gigs", "meg", "megs", "kbps", "mbps", "gbps", "bit", "bits", "ms", "sec",
        "secs", "min", "mins", "hr", "hrs", "px",
    ]

    private static func isAlpha(_ byte: UInt8) -> Bool {
        (byte >= 97 && byte <= 122) || (byte >= 65 && byte <= 90)
    }

    /// The stem of a raw token as an index term, marked so it never equals a word as written.
    static func stemTerm(_ token: String) -> String {
        "~" + PorterStemmer.stem(token)
    }

    /// Two adjacent words, as stems, as one index term (marked, so it never equals a word).
    static func pairTerm(stemmed first: String, _ second: String) -> String {
        "\u{1}" + first + " " + second
    }

    /// Whether a token looks like an error code or message number: letters and digits mixed (`0x8004de40`,
    /// `aadsts50074`), or dotted numbers (`5.7.133`), or numbers of three digits or more (`550`, `404`).
    static func isCode(_ token: String) -> Bool {
        let digits = token.utf8.filter { $0 >= 48 && $0 <= 57 }.count
        guard digits > 0 else { return false }
        return digits < token.utf8.count || digits >= 3
    }

    static let stopWords: Set<String> = [
        "a", "about", "above", "after", "again", "against", "all", "am", "an", "and", "any", "are", "as", "at", "be",
        "because", "been", "before", "being", "below", "between", "both", "but", "by", "can", "cant", "could",
        "did", "do", "does", "doing", "dont", "down", "during", "each", "few", "for", "from", "further", "had", "has",
        "have", "having", "he", "her", "here", "hers", "herself", "him", "himself", "his", "how", "i", "if", "in",
        "into", "is", "it", "its", "itself", "just", "me", "more", "most", "my", "myself", "no", "nor", "not", "now",
        "of", "off", "on", "once", "only", "or", "other", "our", "ours", "ourselves", "out", "over", "own", "same",
        "she", "should", "so", "some", "such", "than", "that", "the", "their", "theirs", "them", "themselves", "then",
        "there", "these", "they", "this", "those", "through", "to", "too", "under", "until", "up", "very", "was", "we",
        "were", "what", "when", "where", "which", "while", "who", "whom", "why", "will", "with", "would", "you",
        "your", "yours", "yourself", "yourselves", "im", "ive", "its", "weve", "youre", "theyre", "isnt", "arent",
        "wasnt", "werent", "doesnt", "didnt", "wont", "wouldnt", "couldnt", "shouldnt", "hasnt", "havent", "also",
        "get", "gets", "got", "getting", "still", "even", "every", "keep", "keeps", "us", "one", "like", "just",
    ]
}

import Foundation
import Testing

@testable import SolutionSearch

/// The engine's parts on a tiny corpus, and the evaluation arithmetic on hand-computed rankings.
@Suite struct SearchTests {
    static let articles = [
        Article(
            id: "outlook/password-prompt", title: "Outlook keeps prompting for a password", product: "Outlook",
            url: "https://example.test/1", description: "Fixes repeated credential prompts.",
            symptoms: "Outlook asks for your password again and again when it connects to Exchange Online.",
            body: "Outlook keeps prompting for a password. Clear cached credentials."),
        Article(
            id: "onedrive/sync-error", title: "OneDrive sync error 0x8004de40", product: "OneDrive",
            url: "https://example.test/2", description: "Sign-in to OneDrive fails.",
            symptoms: "The OneDrive sync app shows error code 0x8004de40 when you sign in.",
            body: "Error 0x8004de40 means the connection to the service failed. Check TLS settings."),
        Article(
            id: "exchange/ndr-550", title: "Fix NDR 550 5.7.133 in Exchange Online", product: "Exchange Online",
            url: "https://example.test/3", description: "Mail to a group bounces.",
            symptoms: "Senders get a bounce 550 5.7.133 RESOLVER.RST.SenderNotAuthenticatedForGroup.",
            body: "The group accepts mail only from authenticated senders."),
        Article(
            id: "teams/meeting-recording", title: "Record button missing in Teams meetings", product: "Teams",
            url: "https://example.test/4", description: "Meeting recording isn't available.",
            symptoms: "The record option is missing from the meeting controls in Teams.",
            body: "An admin policy turns off meeting recording for the organizer."),
        Article(
            id: "outlook/calendar-sharing", title: "Can't accept a shared calendar invitation", product: "Outlook",
            url: "https://example.test/5", description: "Calendar sharing invitations fail.",
            symptoms: "The Accept button is missing from a calendar sharing invitation.",
            body: "Calendar sharing between organizations needs an organization relationship."),
    ]

    static let index = SolutionIndex(articles: articles)

    func best(_ text: String, product: String? = nil) -> String? {
        Self.index.search(text, product: product, limit: 3).first?.id
    }

    @Test func privateArticlesAreSearchedForTheirTenantOnly() {
        let shared = Article(id: "shared", title: "Printer offline", product: "", url: "")
        let contoso = Article(id: "contoso", title: "Printer offline in Contoso", product: "", url: "", tenant: "c")
        let index = SolutionIndex(articles: [shared, contoso])
        #expect(index.search("printer offline contoso", tenant: "c").map(\.id) == ["contoso", "shared"])
        #expect(index.search("printer offline contoso", tenant: "f").map(\.id) == ["shared"])
        #expect(index.search("printer offline contoso").map(\.id) == ["shared"])
    }

    @Test func aVocabularyWordIsNoTypo() {
        // `macbook` is one letter from the corpus's `macbooks`, but the vocabulary knows it stands for `mac`.
        let articles = (0..<2).map {
            Article(id: "\($0)", title: "Old macbooks and a mac", product: "", url: "")
        }
        let index = SolutionIndex(articles: articles)
        let runs = QueryPlan(text: "macbook", product: nil, index: index).terms.map(\.run.start)
        #expect(runs.contains(index.postings["mac"]!.start))
        #expect(!runs.contains(index.postings["macbooks"]!.start))
    }

    /// Whether `query` searches for each of `words`, which articles (three, so that none is a stray) write in
    /// their `text`.
    static func expectRead(_ query: String, as words: [String], articlesSay text: String) {
        let articles = (0..<3).map { Article(id: "\($0)", title: text, product: "", url: "") }
        let index = SolutionIndex(articles: articles)
        let runs = QueryPlan(text: query, product: nil, index: index).terms.map(\.run.start)
        for word in words {
            #expect(index.postings[word].map { runs.contains($0.start) } == true, "\(word)")
        }
    }

    @Test func serviceDeskShorthandReadsAsTheArticlesWords() {
        Self.expectRead(
            "acct cert perms creds 30secs win10",
            as: ["account", "certificate", "permission", "credentials", "seconds", "windows", "10"],
            articlesSay: "Account certificate permission credentials; seconds on Windows 10")
    }

    @Test func adminAbbreviationsFindTheArticlesThatSpellThemOut() {
        // Each pair: an article that spells the abbreviation out, and one that shares the query's other words.
        let cases: [(query: String, long: String)] = [
            ("eac shows guid", "Exchange admin center shows guid"), ("upn changed", "User principal name changed"),
            ("ews fails", "Exchange Web Services fails"), ("ca blocks tabs", "Conditional Access blocks tabs"),
            ("mail via eop", "Mail via Exchange Online Protection"), ("otp missing", "Verification code missing"),
            ("pwa error", "Project Web App error"), ("cq setting", "Call queue setting"),
            ("sg cannot open", "Security group cannot open"), ("link fails in ie", "Link fails in Internet Explorer"),
        ]
        for (query, long) in cases {
            let words = query.split(separator: " ").dropFirst().joined(separator: " ")
            let index = SolutionIndex(articles: [
                Article(id: "other", title: "Other product \(words)", product: "", url: ""),
                Article(id: "spelled", title: long, product: "", url: ""),
            ])
            #expect(index.search(query).first?.id == "spelled", "\(query)")
        }
        let products = QueryPlan(text: "infopath form in planner", product: nil, index: Self.index).products
        #expect(products["InfoPath"] != nil && products["Planner"] != nil)
    }

    @Test func deskWordsReadAsTheArticlesWords() {
        Self.expectRead(
            "greyed out and laggy, spam from my boss's pc is gibberish, huge and doubled",
            as: ["grayed", "slow", "performance", "junk", "delegate", "garbled", "large", "duplicate"],
            articlesSay: "Sharing option grayed out, slow performance; junk mail from a delegate is garbled; large "
                + "duplicate items")
    }

    @Test func queryWordsStandingCloseTogetherRankHigher() {
        // The same words and lengths; only how far apart "calendar" and "sync" stand differs.
        let far = Article(
            id: "far", title: "Article", product: "", url: "",
            description: "calendar alpha beta gamma delta epsilon zeta eta phone sync")
        let near = Article(
            id: "near", title: "Article", product: "", url: "",
            description: "calendar phone sync alpha beta gamma delta epsilon zeta eta")
        #expect(SolutionIndex(articles: [far, near]).search("calendar sync").map(\.id) == ["near", "far"])
        var options = SearchOptions()
        options.proximity = false
        // Without it the two tie, and the first indexed comes first.
        let flat = SolutionIndex(articles: [far, near], options: options).search("calendar sync")
        #expect(flat.map(\.id) == ["far", "near"])
        #expect(flat[0].score == flat[1].score)
    }

    @Test func snippetsMarkTheMatchedWordsOfTheBestPassage() {
        let ndr = Self.articles[2]
        let snippet = Snippet.make(for: ndr, query: "mail bounces with 550 5.7.133", in: Self.index)
        // The sentence with the most (and rarest) of the query's words wins.
        #expect(
            snippet
                == "Senders get a <c0>bounce</c0> <c0>550</c0> <c0>5.7.133</c0> RESOLVER.RST.SenderNotAuthenticatedForGroup."
        )
        // Stems match (bounced → bounces), codes with dots are one word, and the article's own markup is escaped.
        var article = ndr
        article.description = "Senders see <550 5.7.133> & the message bounced."
        #expect(
            Snippet.make(for: article, query: "bounces 5.7.133", in: Self.index)
                == "Senders see &lt;550 <c0>5.7.133</c0>&gt; &amp; the message <c0>bounced</c0>.")
        // A passage from later in the text is marked as cut before it; a long one is cut after it.
        article.description = "Unrelated opening sentence. " + String(repeating: "Bounce loops happen ", count: 30)
        let cut = Snippet.make(for: article, query: "bounce", in: Self.index)
        #expect(cut.hasPrefix(Snippet.cut + "<c0>Bounce</c0> loops"), "\(cut)")
        #expect(cut.hasSuffix(Snippet.cut))
        #expect(cut.count < Snippet.length + 200)
        // A typographic apostrophe reads as the analyzer reads it: "user’s" is the corpus word "users".
        var apostrophe = Self.articles[0]
        apostrophe.description = "Nothing here. Only the user’s view."
        #expect(
            Snippet.make(for: apostrophe, query: "users", in: Self.index)
                == Snippet.cut + "Only the <c0>user’s</c0> view.")
        // A passage over several lines reads as one line.
        article.description = "Bounce one.\nBounce  two\tlines."
        #expect(
            Snippet.make(for: article, query: "bounce", in: Self.index)
                == "<c0>Bounce</c0> one. <c0>Bounce</c0> two lines.")
        // No word of the query: the opening of the description, unmarked.
        #expect(Snippet.make(for: ndr, query: "zzzz", in: Self.index) == "Mail to a group bounces.")
        #expect(Snippet.make(for: ndr, query: "", in: nil) == "Mail to a group bounces.")
    }

    @Test func randomTextNeverTrapsTheSearchOrTheSnippets() {
        var generator = SystemRandomNumberGenerator()
        let alphabet = Array("ab0x8.’'<&> \n\té😀\u{301}\u{0}ÅΩ-exchangeoutlook5.7.1".unicodeScalars)
        for _ in 0..<2000 {
            let length = Int.random(in: 0...120, using: &generator)
            var text = String.UnicodeScalarView()
            for _ in 0..<length { text.append(alphabet.randomElement(using: &generator)!) }
            let query = String(text)
            for hit in Self.index.search(query, limit: Int.random(in: -5...50, using: &generator)) {
                _ = Snippet.make(for: Self.index.article(id: hit.id)!, query: query, in: Self.index)
            }
            _ = Snippet.make(
                for: Article(id: "x", title: query, product: "", url: "", description: query, body: query),
                query: query, in: Self.index)
        }
    }

    @Test func tokensKeepCodesAndDropApostrophes() {
        #expect(
            Analyzer.tokens("Can't send: 550 5.7.133, error 0x8004DE40!") == [
                "cant", "send", "550", "5.7.133", "error", "0x8004de40",
            ])
        #expect(Analyzer.tokens("user’s mailbox") == ["users", "mailbox"])
        #expect(Analyzer.isCode("0x8004de40") && Analyzer.isCode("5.7.133") && Analyzer.isCode("550"))
        #expect(!Analyzer.isCode("outlook"))
        #expect(!Analyzer.isCode("12"))
    }

    @Test func amountsGluedToTheirUnitReadAsTheUnit() {
        // Users write `20gb`, articles `20 GB`: the unit is the word both share; the amount is no error code.
        #expect(Analyzer.tokens("pst over 20GB, pauses 500ms") == ["pst", "over", "gb", "pauses", "ms"])
        #expect(Analyzer.tokens("1.5gb file") == ["gb", "file"])
        // An architecture's bits are what articles name (`64-bit`).
        #expect(Analyzer.tokens("64bit office") == ["64", "bit", "office"])
        // Codes, versions and anything else that starts with digits stay whole.
        #expect(
            Analyzer.tokens("2fa 404s 0x80070005 5.7.133 365mb. 10gbx") == [
                "2fa", "404s", "0x80070005", "5.7.133", "mb", "10gbx",
            ])
        #expect(Analyzer.tokens("o365 m365gb") == ["o365", "m365gb"])
        let index = SolutionIndex(articles: [
            Article(
                id: "large-file", title: "Application pauses with a data file in a cached mode profile",
                product: "Outlook", url: "", description: "", symptoms: "The data file is 10 GB or more.", body: ""),
            Article(
                id: "shared-file", title: "Application pauses with a data file on a share", product: "Outlook",
                url: "", description: "", symptoms: "The data file is on a network share.", body: ""),
        ])
        #expect(index.search("app freezing, my data file is 20gb").first?.id == "large-file")
    }

    @Test func errorCodesAndMessagesFindTheirArticle() {
        #expect(best("onedrive wont sign in 0x8004de40") == "onedrive/sync-error")
        #expect(best("mail to the team list bounces with 550 5.7.133") == "exchange/ndr-550")
    }

    @Test func abbreviationsTyposAndStemsFindTheirArticle() {
        #expect(best("OD4B sign in fails") == "onedrive/sync-error")
        #expect(best("outlok keeps asking for pasword") == "outlook/password-prompt")
        #expect(best("no record button in teams meetng") == "teams/meeting-recording")
        #expect(best("accepting shared calendars") == "outlook/calendar-sharing")
    }

    @Test func typoCorrectionNeedsOneEditToACommonerWord() {
        let corrector = TypoCorrector(vocabulary: ["password": 40, "passwords": 3, "calendar": 30, "outlook": 90])
        #expect(corrector.correct("pasword") == "password")
        #expect(corrector.correct("outlok") == "outlook")
        #expect(corrector.correct("calender") == "calendar")
        #expect(corrector.correct("pswd") == nil)
        #expect(corrector.correct("calender", atLeast: 31) == nil)
        #expect(TypoCorrector.distance("meetng", "meeting") == 1)
        #expect(TypoCorrector.distance("recieve", "receive") == 1)
        #expect(TypoCorrector.distance("abc", "xyz") == 3)
    }

    @Test func theSentenceEncoderReadsTyposAsTheirCorrections() {
        // Only words the corpus lacks are corrections; the encoder is told which it does not know whole.
        var copy = Self.articles[0]
        copy.id = "copy"
        let index = SolutionIndex(articles: [Self.articles[0], copy])
        let plan = QueryPlan(text: "Outlok keeps asking for my pasword (again)!", product: nil, index: index)
        #expect(plan.corrections == ["outlok": "outlook", "pasword": "password"])
        #expect(
            plan.corrected("Outlok keeps asking for my pasword (again)!") { _ in true }
                == "outlook keeps asking for my password (again)!")
        #expect(
            plan.corrected("Outlok keeps asking for my pasword (again)!") { $0 != "outlok" }
                == "Outlok keeps asking for my password (again)!")
        let clean = QueryPlan(text: "outlook keeps asking", product: nil, index: index)
        #expect(
            clean.corrections.isEmpty && clean.corrected("outlook keeps asking") { _ in true } == "outlook keeps asking"
        )
    }

    @Test func theTitleWeighsMoreThanTheBody() {
        let articles = [
            Article(id: "title", title: "Mailbox quota", product: "P", url: "", body: "Something else entirely here."),
            Article(id: "body", title: "Something else", product: "P", url: "", body: "Mailbox quota details here."),
        ]
        #expect(SolutionIndex(articles: articles).search("mailbox quota").first?.id == "title")
    }

    @Test func aNamedProductLeadsAmongEqualMatches() {
        let articles = [
            Article(id: "a", title: "Sign in fails", product: "Teams", url: ""),
            Article(id: "b", title: "Sign in fails", product: "OneDrive", url: ""),
        ]
        let index = SolutionIndex(articles: articles)
        #expect(index.search("sign in fails", product: "OneDrive").first?.id == "b")
        #expect(index.search("sign in fails", product: "Teams").first?.id == "a")
    }

    @Test func emptyAndHugeQueriesAreSafe() {
        #expect(Self.index.search("").isEmpty)
        #expect(Self.index.search("the and of").isEmpty)
        _ = Self.index.search(String(repeating: "password outlook ", count: 20_000))
        #expect(Self.index.search("outlook", limit: 0).isEmpty)
    }

    @Test func metricsAsComputedByHand() {
        // Relevant: a (2), b (1). Ranking: x, a, y, b.
        let scores = Evaluation.score(ranking: ["x", "a", "y", "b"], relevant: ["a": 2, "b": 1])
        #expect(abs(scores.mrr - 0.5) < 1e-9)
        // DCG = 2/log2(3) + 1/log2(5); ideal = 2/log2(2) + 1/log2(3).
        let dcg = 2 / log2(3.0) + 1 / log2(5.0)
        let ideal = 2.0 + 1 / log2(3.0)
        #expect(abs(scores.ndcg - dcg / ideal) < 1e-9)
        #expect(abs(scores.recall - 1.0) < 1e-9)
        let missed = Evaluation.score(ranking: Array(repeating: "z", count: 10) + ["a"], relevant: ["a": 2])
        #expect(missed.mrr == 0 && missed.ndcg == 0 && missed.recall == 0)
    }

    @Test func bothQueryFormatsAreRead() throws {
        let lines = """
            {"qid": "q1", "query": "outlook password", "relevant": {"outlook/password-prompt": 2}, "style": "vague"}
            {"qid": "t1", "short_description": "Teams", "description": "no record button", "relevant": {"teams/meeting-recording": 2}}
            """
        let queries = try LabelledQuery.read(Data(lines.utf8))
        #expect(queries.map(\.text) == ["outlook password", "Teams no record button"])
        let evaluation = Evaluation.run(queries) { Self.index.search($0.text).map(\.id) }
        #expect(evaluation.overall.queries == 2 && evaluation.overall.mrr == 1)
        #expect(evaluation.byStyle["vague"]?.queries == 1)
        #expect(throws: EvaluationError.self) { try LabelledQuery.read(Data("{\"x\": 1}".utf8)) }
    }

    @Test func labelledQueryFilesAreCheckedLineByLine() throws {
        func refusal(_ text: String) -> String? {
            do {
                _ = try LabelledQuery.read(Data(text.utf8))
                return nil
            } catch let error as EvaluationError {
                return error.message
            } catch {
                return "\(error)"
            }
        }
        let good = #"{"query": "mail", "relevant": {"a": 2}}"#
        // Blank lines are skipped but counted: a refusal names the line an editor shows.
        #expect(refusal("\(good)\n\n \r\nnot json")?.hasPrefix("line 4 ") == true)
        #expect(refusal(#"{"query": "mail"}"#)?.hasPrefix("line 1 has no relevant object") == true)
        for grade in ["-1", "1.5", "1e300", "\"high\"", "null", "101"] {
            let message = refusal(#"{"query": "mail", "relevant": {"a": \#(grade)}}"#)
            #expect(message?.hasSuffix("grades are whole numbers from 0 to 100") == true, "\(grade)")
        }
        let read = try LabelledQuery.read(Data(#"{"query": "mail", "relevant": {"a": 0, "b": 100, "c": 2.0}}"#.utf8))
        #expect(read.first?.relevant == ["a": 0, "b": 100, "c": 2])
    }
}

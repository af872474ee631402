import Foundation
import SolutionSearch

/// `m365-benchmarks search [passes] [articles]`: the search engine in-process, as the Connector runs it — index
/// build time and memory, search latency (p50/p99 over `passes` warm passes of each development set) with plain
/// BM25 on the same index layout as the baseline of the same run, the cost of the endpoint's snippets, and the same
/// at `articles` (default 50,000: the corpus repeated with varied IDs and words). Reads `../shared/data/kb` or
/// `M365_KB_DIR`.
enum SearchBenchmark {
    static func run(passes: Int, scaledTo scale: Int) throws {
        let folder = URL(
            fileURLWithPath: ProcessInfo.processInfo.environment["M365_KB_DIR"] ?? "../shared/data/kb",
            isDirectory: true)
        let articles = Article.readJSONLines(try Data(contentsOf: folder.appendingPathComponent("articles.jsonl")))
            .articles
        let sets = try ["queries-dev", "tickets-dev"].map { name in
            (name, try LabelledQuery.read(Data(contentsOf: folder.appendingPathComponent("\(name).jsonl"))))
        }
        print("search, \(articles.count) articles, \(passes) warm passes per set (release build expected)")
        let (index, _) = build(articles, label: "index")
        let (baseline, _) = build(articles, options: .baseline, label: "baseline index (plain BM25, title + body)")
        var withoutProximity = SearchOptions()
        withoutProximity.proximity = false
        let (flat, _) = build(articles, options: withoutProximity, label: "index without proximity re-ranking")
        for (name, queries) in sets {
            let engine = latency(queries.map(\.text), passes: passes) { index.search($0, limit: 10) }
            let unranked = latency(queries.map(\.text), passes: passes) { flat.search($0, limit: 10) }
            print(
                String(
                    format: "  %@ without proximity: p50 %.3f ms, p99 %.3f ms (with/without p99 %.0f%%)", name,
                    unranked.p50, unranked.p99, 100 * engine.p99 / unranked.p99))
            let plain = latency(queries.map(\.text), passes: passes) { baseline.search($0, limit: 10) }
            print(
                String(
                    format:
                        "  %@: p50 %.3f ms, p99 %.3f ms, mean %.3f ms; plain BM25 p50 %.3f, p99 %.3f (engine/plain p99 %.0f%%)",
                    name, engine.p50, engine.p99, engine.mean, plain.p50, plain.p99, 100 * engine.p99 / plain.p99))
            let answered = latency(queries.map(\.text), passes: max(1, passes / 4)) { text in
                let wanted = Snippet.Query(text, in: index)
                for hit in index.search(text, limit: 5) {
                    _ = Snippet.make(for: index.article(id: hit.id)!, query: wanted, in: index)
                }
            }
            print(String(format: "  %@ with 5 snippets: p50 %.3f ms, p99 %.3f ms", name, answered.p50, answered.p99))
        }
        let semantic = try self.semantic(articles, sets: sets, passes: passes)
        guard scale > articles.count else { return }
        let scaled = repeated(articles, to: scale)
        let (large, _) = build(scaled, label: "index of \(scaled.count)")
        // A Connector with a learned query encoder also chooses the training sentences at every rebuild.
        let choosing = [articles, scaled].map { articles in
            let start = DispatchTime.now().uptimeNanoseconds
            let texts = DistilledQueryEncoder.trainingTexts(of: articles)
            return (
                seconds: Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9, chosen: texts.count, texts: texts
            )
        }
        print(
            String(
                format: "  training sentences chosen: %d of %d articles in %.2f s, %d of %d in %.2f s (%.1fx)",
                choosing[0].chosen, articles.count, choosing[0].seconds, choosing[1].chosen, scaled.count,
                choosing[1].seconds, choosing[1].seconds / max(choosing[0].seconds, 1e-9)))
        // As the Connector chooses them: the first time from every article, then after an edit of one.
        for (articles, fresh) in [(articles, choosing[0].texts), (scaled, choosing[1].texts)] {
            var choice = TrainingTextChoice()
            func timed(_ articles: [Article], expected: [String]? = nil) -> (seconds: Double, same: Bool) {
                let start = DispatchTime.now().uptimeNanoseconds
                let texts = choice.texts(of: articles)
                let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
                return (seconds, texts == expected ?? DistilledQueryEncoder.trainingTexts(of: articles))
            }
            let first = timed(articles, expected: fresh)
            var edited = articles
            edited[edited.count / 2].description = "Outlook shows a banner that the mailbox is almost full."
            let again = timed(edited)
            print(
                String(
                    format:
                        "  training sentences chosen as the Connector does, %d articles: first %.2f s, after an edit of one %.3f s (%d read; %.0fx faster; the same texts: %@)",
                    articles.count, first.seconds, again.seconds, choice.articlesRead,
                    first.seconds / max(again.seconds, 1e-9), first.same && again.same ? "yes" : "NO"))
        }
        for (name, queries) in sets {
            let figures = latency(queries.map(\.text), passes: max(1, passes / 4)) { large.search($0, limit: 10) }
            print(
                String(
                    format: "  %@ at %d articles: p50 %.3f ms, p99 %.3f ms, mean %.3f ms", name, scaled.count,
                    figures.p50, figures.p99, figures.mean))
        }
        guard let semantic else { return }
        // Each copy gets its original's vector: the cost of a search does not depend on the vectors' values, and
        // encoding 50,000 articles would take most of an hour.
        let vectors = Dictionary(
            scaled.map { ($0.id, semantic.vectors[String($0.id.split(separator: "#").first ?? "")] ?? []) },
            uniquingKeysWith: { first, _ in first })
        let largeSemantic = SolutionIndex(
            articles: scaled, semantic: (semantic.encoder, vectors), queryTraining: semantic.queryTraining)
        for (name, queries) in sets {
            var searches = 0
            let figures = latency(queries.map(\.text), passes: max(1, passes / 8)) {
                searches += 1
                _ = largeSemantic.search("\($0) \(searches)", limit: 10)
            }
            print(
                String(
                    format:
                        "  %@ at %d articles, semantic (queries read by the %@): p50 %.3f ms, p99 %.3f ms, mean %.3f ms",
                    name, scaled.count, largeSemantic.queryEncoder.rawValue, figures.p50, figures.p99, figures.mean))
        }
    }

    /// With the sentence encoder installed (`M365_SEMANTIC_MODEL` or data/models/all-MiniLM-L6-v2): encoding
    /// throughput on every core, the encoder's memory, learning the distilled query encoder, a query's encoding
    /// alone and semantic search latency with each query encoder.
    static func semantic(_ articles: [Article], sets: [(String, [LabelledQuery])], passes: Int) throws -> (
        encoder: SentenceEncoder, vectors: [String: [Float]], queryTraining: [(text: String, vector: [Float])]
    )? {
        let folder = URL(
            fileURLWithPath: ProcessInfo.processInfo.environment["M365_SEMANTIC_MODEL"]
                ?? "data/models/all-MiniLM-L6-v2")
        guard FileManager.default.fileExists(atPath: folder.appendingPathComponent("model.safetensors").path) else {
            print("  semantic: no model in \(folder.path) (scripts/install-semantic-model.sh)")
            return nil
        }
        let before = residentBytes()
        var start = DispatchTime.now().uptimeNanoseconds
        let encoder = try SentenceEncoder(folder: folder)
        _ = releaseFreeMemory(0)
        print(
            String(
                format: "  semantic: encoder read in %.2f s, resident memory +%.0f MB",
                Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9,
                Double(residentBytes() - before) / 1_048_576))
        try compareWithFloat32(encoder, folder: folder, sets: sets, passes: passes)
        start = DispatchTime.now().uptimeNanoseconds
        let texts = articles.map(SemanticIndex.text(of:))
        let encoded = encoder.encode(all: texts)
        let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
        print(
            String(
                format: "  semantic: %d articles encoded in %.1f s on every core (%.1f articles/s)", texts.count,
                seconds, Double(texts.count) / seconds))
        let vectors = Dictionary(
            zip(articles.map(\.id), encoded).map { ($0, $1) }, uniquingKeysWith: { first, _ in first })
        start = DispatchTime.now().uptimeNanoseconds
        let sentences = DistilledQueryEncoder.trainingTexts(of: articles)
        let sentenceVectors = encoder.encode(all: sentences, limit: SentenceEncoder.maxQueryTokens)
        let queryTraining = Array(zip(sentences, sentenceVectors)).map { (text: $0, vector: $1) }
        print(
            String(
                format: "  semantic: %d sentences to learn the query encoder from, encoded in %.1f s", sentences.count,
                Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9))
        let full = SolutionIndex(articles: articles, semantic: (encoder, vectors))
        _ = releaseFreeMemory(0)
        let beforeDistilled = residentBytes()
        start = DispatchTime.now().uptimeNanoseconds
        let distilled = SolutionIndex(articles: articles, semantic: (encoder, vectors), queryTraining: queryTraining)
        let indexSeconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
        _ = releaseFreeMemory(0)
        print(
            String(
                format:
                    "  semantic index with the distilled query encoder built in %.2f s (the lexical index alone: see above), resident memory +%.0f MB with the lexical index; the query encoder: %d pieces, %.1f MB",
                indexSeconds, Double(residentBytes() - beforeDistilled) / 1_048_576,
                distilled.distilledQueryEncoder?.pieceCount ?? 0,
                Double(distilled.distilledQueryEncoder?.bytes ?? 0) / 1_048_576))
        for (name, queries) in sets {
            let encoding = latency(queries.map(\.text), passes: max(1, passes / 4)) {
                _ = encoder.encode($0, limit: SentenceEncoder.maxQueryTokens)
            }
            let distilledEncoding = latency(queries.map(\.text), passes: passes) {
                _ = distilled.distilledQueryEncoder?.encode($0)
            }
            print(
                String(
                    format:
                        "  %@ query encoding alone, sentence encoder: p50 %.3f ms, p99 %.3f ms; distilled: p50 %.4f ms, p99 %.4f ms",
                    name, encoding.p50, encoding.p99, distilledEncoding.p50, distilledEncoding.p99))
            for index in [distilled, full] {
                measure(index, name: name, queries: queries, passes: passes)
            }
        }
        return (encoder, vectors, queryTraining)
    }

    /// Semantic search latency: texts never seen before, the same again, and eight at a time.
    static func measure(_ index: SolutionIndex, name: String, queries: [LabelledQuery], passes: Int) {
        // Each search a text not seen before (a number appended), so every query is encoded; then the same
        // texts again, whose vectors the index keeps (an incident's tab opened again).
        var searches = 0
        let figures = latency(queries.map(\.text), passes: max(1, passes / 4)) {
            searches += 1
            _ = index.search("\($0) \(searches)", limit: 10)
        }
        let repeated = latency(queries.map(\.text), passes: max(1, passes / 4)) { index.search($0, limit: 10) }
        print(
            String(
                format:
                    "  %@ semantic, queries read by the %@: p50 %.3f ms, p99 %.3f ms, mean %.3f ms; a text searched again p50 %.3f, p99 %.3f",
                name, index.queryEncoder.rawValue, figures.p50, figures.p99, figures.mean, repeated.p50,
                repeated.p99))
        // Eight searches at a time, as a busy Connector runs them: what two cores answer per second.
        let texts = queries.map(\.text)
        let start = DispatchTime.now().uptimeNanoseconds
        let rounds = max(1, passes / 4)
        DispatchQueue.concurrentPerform(iterations: 8) { worker in
            for round in 0..<rounds {
                for (number, text) in texts.enumerated() where number % 8 == worker {
                    _ = index.search("\(text) at once \(round)", limit: 10)
                }
            }
        }
        let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
        print(
            String(
                format: "  %@ semantic (%@), eight at a time: %.0f searches/s", name, index.queryEncoder.rawValue,
                Double(texts.count * rounds) / seconds))
    }

    /// The encoder as it runs (8-bit weights) against the 32-bit weights in the same run: a query's encoding time
    /// on the threads a search uses, and how far apart the two vectors of each text are.
    static func compareWithFloat32(
        _ encoder: SentenceEncoder, folder: URL, sets: [(String, [LabelledQuery])], passes: Int
    ) throws {
        let reference = try SentenceEncoder(folder: folder, precision: .float32)
        let threads = SemanticIndex.queryThreads
        for (name, queries) in sets {
            let texts = queries.map(\.text)
            let wide = latency(texts, passes: max(1, passes / 4)) {
                _ = reference.encode($0, limit: SentenceEncoder.maxQueryTokens, threads: threads)
            }
            let narrow = latency(texts, passes: max(1, passes / 4)) {
                _ = encoder.encode($0, limit: SentenceEncoder.maxQueryTokens, threads: threads)
            }
            let cosines = texts.map { text in
                zip(
                    reference.encode(text, limit: SentenceEncoder.maxQueryTokens),
                    encoder.encode(text, limit: SentenceEncoder.maxQueryTokens)
                ).reduce(Float(0)) { $0 + $1.0 * $1.1 }
            }
            print(
                String(
                    format:
                        "  %@ query encoding on %d threads, %@ weights p50 %.3f ms, p99 %.3f ms; 32-bit p50 %.3f ms, p99 %.3f ms (%.2fx at p50); cosine of the two vectors min %.5f, mean %.5f",
                    name, threads, encoder.precision.rawValue, narrow.p50, narrow.p99, wide.p50, wide.p99,
                    wide.p50 / max(1e-9, narrow.p50), cosines.min() ?? 0,
                    cosines.reduce(0, +) / Float(max(1, cosines.count))))
        }
    }

    /// Builds an index and prints its build time and the process's resident memory growth.
    static func build(_ articles: [Article], options: SearchOptions = SearchOptions(), label: String) -> (
        SolutionIndex, Double
    ) {
        let before = residentBytes()
        let start = DispatchTime.now().uptimeNanoseconds
        let index = SolutionIndex(articles: articles, options: options)
        let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
        // What the index keeps, not what building it used and the allocator still holds.
        _ = releaseFreeMemory(0)
        let grown = Double(residentBytes() - before) / 1_048_576
        print(String(format: "  %@: built in %.2f s, resident memory +%.0f MB", label, seconds, grown))
        return (index, seconds)
    }

    /// Per-search milliseconds over a warm-up pass and then `passes` passes.
    static func latency(_ texts: [String], passes: Int, _ search: (String) -> Void) -> (
        p50: Double, p99: Double, mean: Double
    ) {
        for text in texts { search(text) }
        var times: [Double] = []
        times.reserveCapacity(texts.count * passes)
        for _ in 0..<passes {
            for text in texts {
                let start = DispatchTime.now().uptimeNanoseconds
                search(text)
                times.append(Double(DispatchTime.now().uptimeNanoseconds - start) / 1e6)
            }
        }
        times.sort()
        return (
            Evaluation.percentile(0.5, of: times), Evaluation.percentile(0.99, of: times),
            times.reduce(0, +) / Double(max(times.count, 1))
        )
    }

    /// The corpus repeated to `count` articles; each copy has its own IDs and one word in five of its texts
    /// changed, so the vocabulary grows as a larger real corpus's would.
    static func repeated(_ articles: [Article], to count: Int) -> [Article] {
        var result = articles
        var copy = 1
        while result.count < count {
            let suffix = String(copy, radix: 26).map { character -> Character in
                let value = Int(String(character), radix: 26)!
                return Character(UnicodeScalar(UInt8(97 + value)))
            }
            func vary(_ text: String) -> String {
                text.split(separator: " ", omittingEmptySubsequences: false).enumerated().map { position, word in
                    (position + copy) % 5 == 0 && word.count > 3 ? word + String(suffix) : word
                }.joined(separator: " ")
            }
            for article in articles where result.count < count {
                var changed = article
                changed.id = "\(article.id)#\(copy)"
                changed.title = vary(article.title)
                changed.description = vary(article.description)
                changed.body = vary(article.body)
                result.append(changed)
            }
            copy += 1
        }
        return result
    }

    /// This process's resident memory (`/proc/self/statm`), 0 where there is none.
    static func residentBytes() -> Int {
        guard let statm = try? String(contentsOfFile: "/proc/self/statm", encoding: .utf8) else { return 0 }
        let fields = statm.split(separator: " ")
        guard fields.count > 1, let pages = Int(fields[1]) else { return 0 }
        return pages * Int(sysconf(Int32(_SC_PAGESIZE)))
    }
}

/// glibc's `malloc_trim`, which Swift's Glibc module does not export: gives freed heap pages back to the system.
@_silgen_name("malloc_trim")
private func releaseFreeMemory(_ pad: Int) -> Int32

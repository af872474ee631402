import Foundation
import SolutionSearch
import Vapor

/// Throughput measurements shared by the benchmarks.
enum Measure {
    /// Runs `work` on `workers` concurrent tasks for `duration` seconds; returns completed operations per second.
    static func rate(workers: Int, duration: Double, _ work: @escaping @Sendable () async throws -> Void)
        async throws -> Double
    {
        let start = ContinuousClock.now
        let deadline = start.advanced(by: .milliseconds(Int(duration * 1000)))
        let total = try await withThrowingTaskGroup(of: Int.self) { group in
            for _ in 0..<workers {
                group.addTask {
                    var count = 0
                    while ContinuousClock.now < deadline {
                        try await work()
                        count += 1
                    }
                    return count
                }
            }
            return try await group.reduce(0, +)
        }
        let elapsed = start.duration(to: .now)
        return Double(total) / (Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18)
    }

    /// Like ``rate(workers:duration:_:)``, also timing every operation: requests per second, p50 and p99 in ms.
    static func rateAndLatency(
        workers: Int, duration: Double, _ work: @escaping @Sendable () async throws -> Void
    ) async throws -> (rate: Double, p50: Double, p99: Double) {
        let start = ContinuousClock.now
        let deadline = start.advanced(by: .milliseconds(Int(duration * 1000)))
        let times = try await withThrowingTaskGroup(of: [Double].self) { group in
            for _ in 0..<workers {
                group.addTask {
                    var times: [Double] = []
                    while ContinuousClock.now < deadline {
                        let began = ContinuousClock.now
                        try await work()
                        let took = began.duration(to: .now)
                        times.append(
                            Double(took.components.seconds) * 1000 + Double(took.components.attoseconds) / 1e15)
                    }
                    return times
                }
            }
            return try await group.reduce(into: [Double]()) { $0 += $1 }
        }
        let elapsed = start.duration(to: .now)
        let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        let sorted = times.sorted()
        return (
            Double(times.count) / seconds, Evaluation.percentile(0.5, of: sorted),
            Evaluation.percentile(0.99, of: sorted)
        )
    }

    /// Where `wrk` is installed, if it is (`apt-get install wrk`).
    static var wrkPath: String? {
        ["/usr/bin/wrk", "/usr/local/bin/wrk"].first(where: FileManager.default.isExecutableFile)
    }

    /// Drives `url` with wrk (one thread) and returns its requests per second; any non-2xx answer is an error.
    ///
    /// Waiting for wrk blocks a thread, so it happens on a dispatch queue: blocking one of Swift's two
    /// cooperative threads here would leave the server under test a single core.
    static func wrk(
        _ wrk: String, url: String, body: String?, headers: [String: String] = [:], seconds: Double,
        connections: Int, directory: URL
    ) async throws -> Double {
        try await withCheckedThrowingContinuation { continuation in
            DispatchQueue.global().async {
                continuation.resume(
                    with: Result {
                        try runWrk(
                            wrk, url: url, body: body, headers: headers, seconds: seconds, connections: connections,
                            directory: directory)
                    })
            }
        }
    }

    private static func runWrk(
        _ wrk: String, url: String, body: String?, headers: [String: String], seconds: Double, connections: Int,
        directory: URL
    ) throws -> Double {
        var arguments = ["-t1", "-c\(connections)", "-d\(Int(seconds))s"]
        for (name, value) in headers { arguments += ["-H", "\(name): \(value)"] }
        if let body {
            let script = directory.appendingPathComponent("post.lua")
            try """
            wrk.method = "POST"
            wrk.body = "\(body)"
            wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"
            """.write(to: script, atomically: true, encoding: .utf8)
            arguments += ["-s", script.path]
        }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: wrk)
        process.arguments = arguments + [url]
        let output = Pipe()
        process.standardOutput = output
        process.standardError = output
        try process.run()
        let text = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        guard !text.contains("Non-2xx"),
            let line = text.split(separator: "\n").first(where: { $0.hasPrefix("Requests/sec:") }),
            let rate = Double(line.dropFirst("Requests/sec:".count).trimmingCharacters(in: .whitespaces))
        else {
            throw Abort(.internalServerError, reason: "wrk run failed:\n\(text)")
        }
        return rate
    }
}

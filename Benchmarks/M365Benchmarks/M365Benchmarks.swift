import Foundation
import Logging

/// `m365-benchmarks identity|desk|server|connector|insights [seconds per phase] [connections]`, `deskscale [seconds] [connections] [incidents]`, `delivery [updates] [cases]`, `worknote [updates]`, `search [passes] [articles]`: figures with a baseline from
/// the same run. Build in release mode: `swift build -c release --product m365-benchmarks`.
@main
enum M365Benchmarks {
    static func main() async throws {
        let arguments = CommandLine.arguments
        let which = arguments.count > 1 ? arguments[1] : "identity"
        let seconds = arguments.count > 2 ? Double(arguments[2]) ?? 5 : 5
        let connections = arguments.count > 3 ? Int(arguments[3]) ?? 8 : 8
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = .error
            return handler
        }
        switch which {
        case "identity": try await IdentityTokenBenchmark.run(seconds: seconds, connections: connections)
        case "desk": try await DeskTableBenchmark.run(seconds: seconds, connections: connections)
        case "deskscale":
            try await DeskScaleBenchmark.run(
                seconds: seconds, connections: connections,
                incidents: arguments.count > 4 ? Int(arguments[4]) ?? 100_000 : 100_000)
        case "server": try await ServerBenchmark.run(seconds: seconds, connections: connections)
        case "connector": try await ConnectorHealthBenchmark.run(seconds: seconds, connections: connections)
        case "insights": try await InsightsBenchmark.run(seconds: seconds, connections: connections)
        // Here: updates measured one by one, and cases updated at once.
        case "delivery": try await DeliveryBenchmark.run(updates: Int(seconds), cases: connections)
        // Here: engineer updates measured one by one until they are work notes on the real desk.
        case "worknote": try await WorkNoteBenchmark.run(updates: arguments.count > 2 ? Int(seconds) : 200)
        // Here the numbers are passes over the query sets and the scaled corpus's article count.
        case "search":
            do {
                try SearchBenchmark.run(passes: Int(seconds), scaledTo: arguments.count > 3 ? connections : 50_000)
            } catch {
                FileHandle.standardError.write(
                    Data("m365-benchmarks search: \(error.localizedDescription) (set M365_KB_DIR)\n".utf8))
                exit(1)
            }
        default:
            FileHandle.standardError.write(
                Data(
                    "usage: m365-benchmarks identity|desk|server|connector|insights [seconds] [connections] | deskscale [seconds] [connections] [incidents] | delivery [updates] [cases] | worknote [updates] | search [passes] [articles]\n"
                        .utf8))
            exit(64)
        }
    }
}

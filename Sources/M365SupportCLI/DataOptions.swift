import ArgumentParser
import Foundation
import Logging
import ServerSupport
import Synchronization
import Vapor

/// Options every command shares: where the data folder is.
struct DataOptions: ParsableArguments {
    @Option(name: .customLong("data-dir"), help: "Data folder (env M365_DATA_DIR, default ./data).")
    var dataDirectory: String?

    var environment: EnvironmentReader { EnvironmentReader() }

    var dataURL: URL {
        let path = dataDirectory ?? environment.string("M365_DATA_DIR") ?? "data"
        return URL(fileURLWithPath: path, isDirectory: true).standardizedFileURL
    }

    func masterKey() throws -> MasterKey {
        try MasterKey.load(environmentValue: environment.string("M365_MASTER_KEY"), dataDirectory: dataURL)
    }
}

enum Logs {
    /// Bootstraps logging once; `LOG_LEVEL` (trace…critical) overrides the command's default level.
    private static let bootstrapped = Mutex(false)

    static func bootstrap(default level: Logger.Level) {
        // A command may open several services' databases in turn; the logging system takes one bootstrap.
        guard
            bootstrapped.withLock({ done in
                defer { done = true }; return !done
            })
        else { return }
        let chosen =
            ProcessInfo.processInfo.environment["LOG_LEVEL"].flatMap { Logger.Level(rawValue: $0.lowercased()) }
            ?? level
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = chosen
            return handler
        }
    }
}

/// Runs a management command on a service's database without serving: `setUp` configures and migrates the app,
/// `body` does the work; the result is printed as JSON or as text. The app is shut down also on failure, and
/// refusals (`AbortError`) become one clear error line.
func runManagement<T: Encodable>(
    json: Bool, setUp: (Application) async throws -> Void, _ body: (Application) async throws -> T,
    describe: (T) -> String, quiet: Bool = false
) async throws {
    Logs.bootstrap(default: .warning)
    let app = try await Serve.makeApplication()
    do {
        try await setUp(app)
        let result = try await body(app)
        if quiet {
        } else if json {
            try printJSON(result)
        } else {
            print(describe(result))
        }
    } catch let error as any AbortError {
        try? await app.asyncShutdown()
        throw CommandFailure(message: error.reason)
    } catch {
        try? await app.asyncShutdown()
        throw error
    }
    try await app.asyncShutdown()
}

/// Prints a wire model as JSON for scripts.
func printJSON(_ value: some Encodable) throws {
    print(String(decoding: try JSONEncoder.iso8601.encode(value), as: UTF8.self))
}

// Vapor's ConsoleKit exports its own Option, Flag and Argument; the CLI means ArgumentParser's.
typealias Option<Value> = ArgumentParser.Option<Value>
typealias Flag<Value> = ArgumentParser.Flag<Value>
typealias Argument<Value> = ArgumentParser.Argument<Value>

/// A refused operation: ArgumentParser prints "Error: {message}" and exits 1, without the usage text.
struct CommandFailure: Error, CustomStringConvertible {
    let message: String
    var description: String { message }
}

/// The bytes of a file named on the command line; a refusal that names the file and says why, rather than
/// Foundation's error dump.
func readFile(_ path: String) throws -> Data {
    var isFolder: ObjCBool = false
    guard FileManager.default.fileExists(atPath: path, isDirectory: &isFolder) else {
        throw CommandFailure(message: "\(path): no such file.")
    }
    guard !isFolder.boolValue else { throw CommandFailure(message: "\(path) is a folder, not a file.") }
    do {
        return try Data(contentsOf: URL(fileURLWithPath: path))
    } catch {
        throw CommandFailure(message: "\(path) cannot be read: \(error.localizedDescription)")
    }
}

import ArgumentParser
import Foundation
import ServerSupport

@main
struct M365Support: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "m365-support",
        abstract: "Microsoft 365 support integration for service desks: desk, connector and identity services.",
        subcommands: [
            Serve.self, DevCert.self, IdentityCommand.self, DeskCommand.self, ConnectorCommand.self, KBCommand.self,
            DemoCommand.self,
        ]
    )

    /// Reads `.env` and `.env.{M365_ENV}` from the working folder before any command reads its configuration;
    /// variables already in the environment win.
    static func main() async {
        let folder = URL(fileURLWithPath: FileManager.default.currentDirectoryPath)
        DotEnvFile.load([folder.appendingPathComponent(".env")])
        let environment = ProcessInfo.processInfo.environment["M365_ENV"] ?? "development"
        DotEnvFile.load([folder.appendingPathComponent(".env.\(environment)")])
        do {
            var command = try parseAsRoot()
            if var asyncCommand = command as? any AsyncParsableCommand {
                try await asyncCommand.run()
            } else {
                try command.run()
            }
        } catch {
            exit(withError: error)
        }
    }
}

import ArgumentParser

@main
struct M365Support: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "m365-support",
        abstract: "Microsoft 365 support integration for service desks: desk, connector and identity services.",
        subcommands: [Serve.self, DevCert.self, IdentityCommand.self]
    )
}

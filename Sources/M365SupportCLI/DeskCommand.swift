import ArgumentParser
import Foundation
import ServerSupport
import ServiceDesk
import Vapor

struct DeskCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "desk",
        abstract: "Manage the service desk in DATA (run in the folder whose ./data it manages).",
        subcommands: [Users.self, OAuth.self, Seed.self])
}

/// Opens the desk's database (migrating it if needed), runs `body`, and closes it again.
struct DeskStore: ParsableArguments {
    @OptionGroup var data: DataOptions

    @Option(
        name: .customLong("database-url"),
        help: "The desk's database (env M365_DESK_DATABASE_URL, default DATA/desk.sqlite).")
    var databaseURL: String?

    @Flag(help: "Print the result as JSON.")
    var json = false

    func run<T: Encodable>(_ body: (DeskDirectory) async throws -> T, describe: (T) -> String) async throws {
        let config = try DeskConfig.load(
            environment: data.environment, dataDirectory: data.dataURL,
            tls: TLSSettings(server: nil, trustedCAFiles: []), masterKey: try data.masterKey(), database: databaseURL)
        try await runManagement(
            json: json,
            setUp: { app in
                try await configure(app, config: config)
                try await app.prepareDesk()
            },
            { app in try await body(DeskDirectory(app: app)) }, describe: describe)
    }
}

extension DeskCommand {
    struct Users: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "user", abstract: "Desk users.", subcommands: [Create.self])

        struct Created: Encodable {
            var sysId: String
            var userName: String
            var roles: [String]
            var webServiceAccessOnly: Bool
            /// Only when generated.
            var password: String?
        }

        struct Create: AsyncParsableCommand {
            @OptionGroup var store: DeskStore
            @Option(name: .customLong("user-name"), help: "User ID (login name).") var userName: String
            @Option(name: .customLong("first-name")) var firstName: String = ""
            @Option(name: .customLong("last-name")) var lastName: String = ""
            @Option(help: "E-mail address.") var email: String = ""
            @Option(help: "Password (env M365_NEW_USER_PASSWORD); generated and printed once when absent.")
            var password: String?
            @Option(help: "Role, e.g. itil or x_mioms_m365_assis.administrator; repeat for more.") var role: [String] =
                []
            @Flag(name: .customLong("web-service-only"), help: "May call the APIs but never sign in to the web UI.")
            var webServiceOnly = false

            func run() async throws {
                let given = password ?? ProcessInfo.processInfo.environment["M365_NEW_USER_PASSWORD"]
                let secret = given ?? RandomToken.password()
                try await store.run(
                    { directory in
                        let sysId = try await directory.createUser(
                            userName: userName, firstName: firstName, lastName: lastName, email: email,
                            password: secret,
                            roles: role, webServiceAccessOnly: webServiceOnly)
                        return Created(
                            sysId: sysId, userName: userName, roles: role, webServiceAccessOnly: webServiceOnly,
                            password: given == nil ? secret : nil)
                    },
                    describe: { user in
                        var text = "Created desk user \(user.userName) \(user.sysId)"
                        if let password = user.password { text += "\nPassword (shown once): \(password)" }
                        return text
                    })
            }
        }
    }

    struct OAuth: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "oauth", abstract: "System OAuth › Application Registry.", subcommands: [CreateInbound.self])

        struct Created: Encodable {
            var clientId: String
            var clientSecret: String
        }

        struct CreateInbound: AsyncParsableCommand {
            static let configuration = CommandConfiguration(
                commandName: "create-inbound", abstract: "An OAuth API endpoint for external clients (password grant).")

            @OptionGroup var store: DeskStore
            @Option(help: "Name.") var name: String
            @Option(name: .customLong("access-token-lifespan"), help: "Seconds (default 1800).") var accessLifespan =
                1800
            @Option(name: .customLong("refresh-token-lifespan"), help: "Seconds (default 8640000).")
            var refreshLifespan = 8_640_000

            func run() async throws {
                try await store.run(
                    { directory in
                        let (clientId, secret) = try await directory.createInboundEntity(
                            name: name, accessTokenLifespan: accessLifespan, refreshTokenLifespan: refreshLifespan)
                        return Created(clientId: clientId, clientSecret: secret)
                    },
                    describe: {
                        "Created inbound OAuth entity\n  client ID: \($0.clientId)\n  client secret (shown once): \($0.clientSecret)"
                    })
            }
        }
    }
}

extension DeskCommand {
    /// `desk seed`: a real desk's volume for load tests.
    struct Seed: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Fill the desk with users and incidents for load tests (batched, with progress).")

        @OptionGroup var store: DeskStore
        @Option(help: "Incidents to add.") var incidents = 100_000
        @Option(help: "Users to add (a tenth of them agents with the itil role).") var users = 10_000
        @Option(name: .customLong("journal-share"), help: "Share of incidents with work notes (0–1).")
        var journalShare = 0.2
        @Option(help: "Random seed: the same seed makes the same desk.") var seed: UInt64 = 1

        func run() async throws {
            guard incidents >= 0, users >= 0, (0...1).contains(journalShare) else {
                throw ValidationError("--incidents and --users are 0 or more; --journal-share is between 0 and 1.")
            }
            let progress = ProgressPrinter(unit: "records", step: 10_000)
            try await store.run(
                { (directory: DeskDirectory) -> DeskLoadSeed.Report in
                    let seeder = DeskLoadSeed(app: directory.app)
                    let report = try await seeder.seed(
                        users: users, incidents: incidents, journalShare: journalShare, seed: seed,
                        progress: { (done: Int, total: Int) in progress.update(done, of: total) })
                    progress.finish()
                    return report
                },
                describe: { (report: DeskLoadSeed.Report) -> String in
                    String(
                        format: "Seeded %d users, %d incidents and %d work notes in %.1f s (%.0f records/s).",
                        report.users, report.incidents, report.workNotes, report.seconds,
                        Double(report.users + report.incidents + report.workNotes) / max(0.001, report.seconds))
                })
        }
    }
}

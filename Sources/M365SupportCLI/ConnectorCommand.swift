import ArgumentParser
import Connector
import Foundation
import Identity
import ServerSupport
import Vapor
import WireModels

struct ConnectorCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "connector",
        abstract: "Manage the Connector in DATA: tenants served, organization profiles, service health.",
        subcommands: [Resource.self, Tenants.self, Profile.self, Health.self, Deliveries.self])
}

/// Opens the Connector's database (migrating it if needed), runs `body`, and closes it again.
struct ConnectorStore: ParsableArguments {
    @OptionGroup var data: DataOptions

    @Option(
        name: .customLong("database-url"),
        help: "The Connector's database (env M365_CONNECTOR_DATABASE_URL, default DATA/connector.sqlite).")
    var databaseURL: String?

    @Flag(help: "Print the result as JSON.")
    var json = false

    func run<T: Encodable>(
        _ body: (ConnectorOperations) async throws -> T, describe: (T) -> String, quiet: Bool = false
    ) async throws {
        let config = try ConnectorConfig.load(
            environment: data.environment, dataDirectory: data.dataURL, tls: nil, masterKey: try data.masterKey(),
            database: databaseURL)
        try await runManagement(
            json: json,
            setUp: { app in
                try await configure(app, config: config)
                try await app.prepareConnector(indexing: false)
            },
            { app in try await body(ConnectorOperations(app: app)) }, describe: describe, quiet: quiet)
    }
}

extension ConnectorCommand {
    /// Registers the Connector as a resource app in a tenant of Identity (in the same data folder) and the tenant
    /// in the Connector; with `--external`, for Entra ID, only the Connector side.
    struct Resource: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Print the Connector's resource identifier and register it in a tenant.")

        @OptionGroup var store: ConnectorStore
        @Option(help: "Tenant ID or domain in Identity (or, with --external, the tenant ID).") var tenant: String?
        @Option(
            name: .customLong("identity-database-url"),
            help: "Identity's database (env M365_IDENTITY_DATABASE_URL, default DATA/identity.sqlite).")
        var identityDatabaseURL: String?
        @Flag(help: "The tenant lives in Entra ID: register it here only (needs --name and --domain).")
        var external = false
        @Option(help: "Display name (with --external).") var name: String?
        @Option(help: "Domain name; repeat for more (with --external).") var domain: [String] = []
        @Option(name: .customLong("app-id"), help: "The Connector's app ID in that tenant (with --external).")
        var appId: String?

        func run() async throws {
            let config = try ConnectorConfig.load(
                environment: store.data.environment, dataDirectory: store.data.dataURL, tls: nil,
                masterKey: try store.data.masterKey())
            guard let tenant else {
                print("Resource identifier: \(config.resource)")
                print("Application roles: \(ConnectorResource.Role.all.joined(separator: ", "))")
                print("Delegated permission: \(ConnectorResource.profileScope)")
                return
            }
            let registered: ConnectorTenant
            if external {
                guard let name, !domain.isEmpty else {
                    throw ValidationError("--external needs --name and at least one --domain.")
                }
                registered = ConnectorTenant(tenantId: tenant, displayName: name, domains: domain, resourceAppId: appId)
            } else {
                registered = try await ConnectorRegistration.inIdentity(
                    data: store.data, databaseURL: identityDatabaseURL, tenant: tenant, config: config)
            }
            try await store.run(
                { try await $0.registerTenant(registered) },
                describe: {
                    "Resource identifier: \(config.resource)\nRegistered tenant \($0.displayName) \($0.tenantId)"
                        + ($0.resourceAppId.map { " (Connector app ID \($0))" } ?? "")
                        + "\nApps call the Connector with a token for \(config.resource) holding "
                        + ConnectorResource.Role.all.joined(separator: " or ") + "."
                })
            guard !external else { return }
            // The directory reader with which the Connector checks that a case's contact is an administrator.
            var needsReader = false
            try await store.run(
                { operations in
                    needsReader = try await !operations.hasDirectoryCredentials(tenant: registered.tenantId)
                    return needsReader
                }, describe: { _ in "" }, quiet: true)
            guard needsReader else { return }
            let reader = try await ConnectorRegistration.directoryReaderInIdentity(
                data: store.data, databaseURL: identityDatabaseURL, tenant: registered.tenantId)
            try await store.run(
                { operations -> String in
                    try await operations.setDirectoryCredentials(
                        tenant: registered.tenantId, clientId: reader.appId, secret: reader.secret)
                    return reader.appId
                },
                describe: { "Directory reader \($0) registered (Directory.Read.All): the Connector checks contacts." })
        }
    }

    struct Tenants: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "tenant", abstract: "Tenants the Connector serves.", subcommands: [List.self])

        struct List: AsyncParsableCommand {
            @OptionGroup var store: ConnectorStore

            func run() async throws {
                try await store.run(
                    { try await $0.tenants() },
                    describe: {
                        $0.map { "\($0.tenantId)  \($0.displayName)  \($0.domains.joined(separator: ", "))" }
                            .joined(separator: "\n")
                    })
            }
        }
    }

    struct Profile: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "A tenant's organization profile (support integration settings).",
            subcommands: [Show.self, Set.self, AddRepository.self, RemoveRepository.self, GraphSync.self])

        struct Show: AsyncParsableCommand {
            @OptionGroup var store: ConnectorStore
            @Option(help: "Tenant ID or domain.") var tenant: String

            func run() async throws {
                try await store.run({ try await $0.profile(tenant: tenant) }, describe: ProfileText.describe)
            }
        }

        struct Set: AsyncParsableCommand {
            static let configuration = CommandConfiguration(abstract: "Basic information: support tool and App ID.")
            @OptionGroup var store: ConnectorStore
            @Option(help: "Tenant ID or domain.") var tenant: String
            @Option(name: .customLong("support-tool"), help: "ServiceNow or none.") var supportTool: String?
            @Option(name: .customLong("app-id"), help: "The outbound app registration's ID; empty clears it.")
            var appId: String?

            func run() async throws {
                try await store.run(
                    { try await $0.updateProfile(tenant: tenant, .init(supportTool: supportTool, appId: appId)) },
                    describe: ProfileText.describe)
            }
        }

        struct AddRepository: AsyncParsableCommand {
            static let configuration = CommandConfiguration(
                commandName: "repository", abstract: "Add or change a repository (the desk cases are delivered to).")
            @OptionGroup var store: ConnectorStore
            @Option(help: "Tenant ID or domain.") var tenant: String
            @Option(help: "Repository ID.") var id: String
            @Option(help: "The desk's base URL.") var endpoint: String?
            @Option(name: .customLong("auth"), help: "basic or aad.") var authenticationType: String?
            @Option(name: .customLong("client-id"), help: "Client ID.") var clientId: String?
            @Option(
                name: .customLong("client-secret"),
                help: "Client secret (env M365_REPOSITORY_CLIENT_SECRET; keeps it off the process list).")
            var clientSecret: String?
            @Option(name: .customLong("refresh-token-expiration"), help: "Seconds (default 864000).")
            var refreshTokenExpiration: Int?
            @Option(name: .customLong("rest-user"), help: "REST user name.") var restUserName: String?
            @Option(
                name: .customLong("rest-password"),
                help: "REST user password (env M365_REPOSITORY_PASSWORD).")
            var restUserPassword: String?

            func run() async throws {
                let environment = ProcessInfo.processInfo.environment
                let input = RepositoryInput(
                    repositoryId: id, endpoint: endpoint, authenticationType: authenticationType, clientId: clientId,
                    clientSecret: clientSecret ?? environment["M365_REPOSITORY_CLIENT_SECRET"],
                    refreshTokenExpiration: refreshTokenExpiration, restUserName: restUserName,
                    restUserPassword: restUserPassword ?? environment["M365_REPOSITORY_PASSWORD"])
                try await store.run(
                    { try await $0.saveRepository(tenant: tenant, input) },
                    describe: { ProfileText.repository($0) })
            }
        }

        struct RemoveRepository: AsyncParsableCommand {
            static let configuration = CommandConfiguration(commandName: "remove-repository")
            @OptionGroup var store: ConnectorStore
            @Option(help: "Tenant ID or domain.") var tenant: String
            @Option(help: "Repository ID.") var id: String

            func run() async throws {
                try await store.run(
                    { try await $0.removeRepository(tenant: tenant, id: id) }, describe: ProfileText.describe)
            }
        }

        struct GraphSync: AsyncParsableCommand {
            static let configuration = CommandConfiguration(
                commandName: "graph-sync",
                abstract: "App credentials with ServiceHealth.Read.All to read the tenant's live service health.")
            @OptionGroup var store: ConnectorStore
            @Option(help: "Tenant ID or domain.") var tenant: String
            @Option(name: .customLong("client-id"), help: "App ID; empty turns the sync off.") var clientId: String
            @Option(name: .customLong("client-secret"), help: "Client secret (env M365_GRAPH_CLIENT_SECRET).")
            var clientSecret: String?

            func run() async throws {
                let secret = clientSecret ?? ProcessInfo.processInfo.environment["M365_GRAPH_CLIENT_SECRET"]
                try await store.run(
                    { try await $0.setGraphSync(tenant: tenant, .init(clientId: clientId, clientSecret: secret)) },
                    describe: ProfileText.describe)
            }
        }
    }

    /// The outbox of case events for the desks: what is waiting, sent or parked, and replaying a parked one.
    struct Deliveries: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "deliveries", abstract: "Deliveries of case events to the desks.",
            subcommands: [List.self, Replay.self], defaultSubcommand: List.self)

        struct List: AsyncParsableCommand {
            static let configuration = CommandConfiguration(abstract: "List deliveries, newest first.")
            @OptionGroup var store: ConnectorStore
            @Option(help: "pending, sent or parked.") var state: String?
            @Option(help: "Tenant ID or domain.") var tenant: String?

            func run() async throws {
                try await store.run(
                    { try await $0.deliveries(state: state, tenant: tenant) },
                    describe: { rows in
                        rows.isEmpty
                            ? "No deliveries."
                            : rows.map { row in
                                "\(row.eventId)  \(row.serviceRequest)#\(row.sequence)  \(row.state)  "
                                    + "attempts \(row.attempts)  → \(row.repositoryId)"
                                    + (row.lastError.map { "\n    \($0)" } ?? "")
                            }.joined(separator: "\n")
                    })
            }
        }

        struct Replay: AsyncParsableCommand {
            static let configuration = CommandConfiguration(abstract: "Send a parked or waiting delivery again now.")
            @OptionGroup var store: ConnectorStore
            @Argument(help: "The event ID.") var event: String

            func run() async throws {
                try await store.run(
                    { operations -> String in
                        try await operations.replayDelivery(event)
                        return event
                    }, describe: { "Event \($0) is queued again; a running Connector sends it within a second." })
            }
        }
    }

    struct Health: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Service health the support team publishes for a tenant.",
            subcommands: [Import.self, Publish.self, Post.self, Resolve.self])

        struct Import: AsyncParsableCommand {
            static let configuration = CommandConfiguration(
                abstract: "Import issues or services in Graph's JSON shape (a {\"value\": […]} collection or an array)."
            )
            @OptionGroup var store: ConnectorStore
            @Option(help: "Tenant ID or domain.") var tenant: String
            @Argument(help: "The JSON file.") var file: String

            func run() async throws {
                let data = try readFile(file)
                try await store.run(
                    { try await $0.importHealth(tenant: tenant, document: data) },
                    describe: {
                        "Imported \($0.issues) \($0.issues == 1 ? "issue" : "issues") and \($0.services) "
                            + ($0.services == 1 ? "service." : "services.")
                    })
            }
        }

        struct Publish: AsyncParsableCommand {
            static let configuration = CommandConfiguration(abstract: "Publish a new issue.")
            @OptionGroup var store: ConnectorStore
            @Option(help: "Tenant ID or domain.") var tenant: String
            @Option(help: "Issue ID (default: generated, such as EX1001).") var id: String?
            @Option(help: "Title.") var title: String
            @Option(help: "The service's display name, such as \"Exchange Online\".") var service: String
            @Option(help: "incident (default) or advisory.") var classification: String?
            @Option(help: "Status (default investigating).") var status: String?
            @Option(help: "Feature.") var feature: String?
            @Option(name: .customLong("impact"), help: "Impact description.") var impactDescription: String?
            @Option(help: "First post (default: the impact description).") var message: String?

            func run() async throws {
                let publication = HealthPublisher.Publication(
                    id: id, title: title, service: service, feature: feature, featureGroup: nil,
                    impactDescription: impactDescription, classification: classification, status: status,
                    startDateTime: nil, message: message)
                try await store.run(
                    { try await $0.publish(tenant: tenant, publication) },
                    describe: { "Published \($0.id): \($0.title) [\($0.status ?? "")]" })
            }
        }

        struct Post: AsyncParsableCommand {
            static let configuration = CommandConfiguration(abstract: "Post an update to an issue.")
            @OptionGroup var store: ConnectorStore
            @Option(help: "Tenant ID or domain.") var tenant: String
            @Option(help: "Issue ID.") var issue: String
            @Option(help: "The update's text.") var message: String
            @Option(help: "New status.") var status: String?

            func run() async throws {
                try await store.run(
                    {
                        try await $0.post(
                            tenant: tenant, issue: issue, .init(message: message, status: status, postType: nil))
                    },
                    describe: { "\($0.id): \($0.posts?.count ?? 0) posts [\($0.status ?? "")]" })
            }
        }

        struct Resolve: AsyncParsableCommand {
            static let configuration = CommandConfiguration(abstract: "Resolve an issue.")
            @OptionGroup var store: ConnectorStore
            @Option(help: "Tenant ID or domain.") var tenant: String
            @Option(help: "Issue ID.") var issue: String
            @Option(help: "Final post.") var message: String?
            @Option(help: "Final status (default serviceRestored).") var status: String?

            func run() async throws {
                try await store.run(
                    { try await $0.resolve(tenant: tenant, issue: issue, message: message, status: status) },
                    describe: { "\($0.id) resolved [\($0.status ?? "")]" })
            }
        }
    }
}

enum ProfileText {
    static func describe(_ profile: OrganizationProfile) -> String {
        var lines = [
            "Tenant \(profile.tenantId)", "  Internal support tool: \(profile.supportTool)",
            "  App ID: \(profile.appId ?? "(not set)")",
        ]
        if let sync = profile.graphSync {
            lines.append(
                "  Graph sync: client \(sync.clientId), secret \(sync.clientSecret.isSet ? "set" : "not set"), "
                    + "last synced \(sync.lastSyncedAt.map(GraphDate.string) ?? "never")"
                    + (sync.lastError.map { ", last error: \($0)" } ?? ""))
        }
        lines.append("  Repositories: \(profile.repositories.isEmpty ? "none" : "")")
        lines += profile.repositories.map { "    " + repository($0) }
        return lines.joined(separator: "\n")
    }

    static func repository(_ repository: OrganizationProfile.Repository) -> String {
        "\(repository.repositoryId)  \(repository.endpoint)  \(repository.authenticationType)  client ID "
            + "\(repository.clientId ?? "-"), secret \(repository.clientSecret.isSet ? "set" : "not set"), REST user "
            + "\(repository.restUserName ?? "-"), password \(repository.restUserPassword.isSet ? "set" : "not set")"
    }
}

/// Registering the Connector in Identity's directory: its resource app with the roles it checks and the
/// delegated permission of its profile page, created once per tenant.
enum ConnectorRegistration {
    static func inIdentity(data: DataOptions, databaseURL: String?, tenant: String, config: ConnectorConfig)
        async throws -> ConnectorTenant
    {
        let identityConfig = try IdentityConfig.load(
            environment: data.environment, dataDirectory: data.dataURL, masterKey: try data.masterKey(), tls: nil,
            database: databaseURL)
        var result: ConnectorTenant?
        try await runManagement(
            json: false,
            setUp: { app in
                try await configure(app, config: identityConfig)
                try await app.prepareIdentity()
            },
            { app in
                result = try await register(admin: app.directoryAdmin(), tenant: tenant, config: config)
                return result
            }, describe: { _ in "" }, quiet: true)
        guard let result else { throw CommandFailure(message: "The tenant could not be registered.") }
        return result
    }

    /// The Connector's app in `tenant` (created when missing) and the tenant as the Connector records it.
    static func register(admin: DirectoryAdmin, tenant: String, config: ConnectorConfig) async throws
        -> ConnectorTenant
    {
        let directory = try await admin.tenant(tenant)
        var app = try await admin.findApp(tenant: directory.id, resource: config.resource)
        if app == nil {
            app = try await admin.createApp(
                tenant: directory.id,
                IdentityAdmin.CreateApp(
                    displayName: ConnectorResource.displayName,
                    redirectUris: [
                        config.endpoint.publicURL + "/profile/signed-in",
                        config.endpoint.publicURL + "/console/signed-in",
                    ],
                    identifierUris: [config.resource], appRoles: ConnectorResource.Role.all, withSecret: false,
                    exposedScopes: [.init(value: ConnectorResource.profileScope, adminConsentRequired: true)]))
            // Registering the Connector is the tenant administrator's act: it includes their consent to the
            // profile page signing users in with the profile permission, so no one meets a consent page there.
            if let app {
                _ = try await admin.grantConsent(
                    tenant: directory.id, client: app.appId,
                    IdentityAdmin.GrantConsent(resource: config.resource, scopes: [ConnectorResource.profileScope]))
            }
        }
        return ConnectorTenant(
            tenantId: directory.id, displayName: directory.name, domains: directory.domains,
            resourceAppId: app?.appId)
    }

    /// The directory reader app in `tenant` of Identity (in the same data folder), made now.
    static func directoryReaderInIdentity(data: DataOptions, databaseURL: String?, tenant: String) async throws
        -> (appId: String, secret: String)
    {
        let identityConfig = try IdentityConfig.load(
            environment: data.environment, dataDirectory: data.dataURL, masterKey: try data.masterKey(), tls: nil,
            database: databaseURL)
        var made: (appId: String, secret: String)?
        try await runManagement(
            json: false,
            setUp: { app in
                try await configure(app, config: identityConfig)
                try await app.prepareIdentity()
            },
            { app in
                let reader = try await createDirectoryReader(admin: app.directoryAdmin(), tenant: tenant)
                made = reader
                return reader.appId
            }, describe: { _ in "" }, quiet: true)
        guard let made else { throw CommandFailure(message: "The directory reader could not be registered.") }
        return made
    }

    static func createDirectoryReader(admin: DirectoryAdmin, tenant: String) async throws
        -> (appId: String, secret: String)
    {
        let reader = try await admin.createApp(
            tenant: tenant,
            IdentityAdmin.CreateApp(
                displayName: ConnectorResource.displayName + " (directory reader)",
                requiredResourceAccess: [
                    .init(
                        resource: MicrosoftGraphResource.identifierURI,
                        roles: [MicrosoftGraphResource.Role.directoryReadAll])
                ]))
        _ = try await admin.grant(
            tenant: tenant, client: reader.appId,
            IdentityAdmin.GrantAppRole(
                resource: MicrosoftGraphResource.identifierURI, role: MicrosoftGraphResource.Role.directoryReadAll))
        guard let secret = reader.secret else { throw CommandFailure(message: "Identity gave the reader no secret.") }
        return (reader.appId, secret)
    }

    /// Registers the Connector's directory reader in `tenant` — an app of its own with a client secret and Graph's
    /// Directory.Read.All (the Connector's resource app stays a public client for the profile page's sign-in) —
    /// and gives the Connector its credentials, unless it has them: with them it checks that a case's contact is
    /// an administrator.
    static func ensureDirectoryAccess(
        admin: DirectoryAdmin, tenant: ConnectorTenant, operations: ConnectorOperations
    ) async throws {
        guard try await !operations.hasDirectoryCredentials(tenant: tenant.tenantId) else { return }
        let reader = try await createDirectoryReader(admin: admin, tenant: tenant.tenantId)
        try await operations.setDirectoryCredentials(
            tenant: tenant.tenantId, clientId: reader.appId, secret: reader.secret)
    }

    /// The demo support provider: its own tenant in Identity with two engineers, served by the Connector so that
    /// they sign in to the console.
    static let supportDomain = "northwindsupport.onmicrosoft.com"

    struct Engineer: Codable {
        var userPrincipalName: String
        var password: String
    }

    /// Creates the support provider's tenant and engineers once (nil when they exist) and registers the Connector
    /// there.
    static func demoSupportTenant(admin: DirectoryAdmin, operations: ConnectorOperations, config: ConnectorConfig)
        async throws -> [Engineer]?
    {
        var engineers: [Engineer]?
        if (try? await admin.tenant(supportDomain)) == nil {
            let tenant = try await admin.createTenant(
                IdentityAdmin.CreateTenant(
                    name: "Northwind Support (Microsoft 365 support provider)", domains: [supportDomain]))
            engineers = []
            for (name, display) in [("alex.engineer", "Alex Engineer"), ("sam.engineer", "Sam Engineer")] {
                let password = RandomToken.password()
                let upn = "\(name)@\(supportDomain)"
                _ = try await admin.createUser(
                    tenant: tenant.id,
                    IdentityAdmin.CreateUser(userPrincipalName: upn, displayName: display, password: password))
                engineers?.append(Engineer(userPrincipalName: upn, password: password))
            }
        }
        _ = try await operations.registerTenant(try await register(admin: admin, tenant: supportDomain, config: config))
        return engineers
    }

    /// The demo's app with both of the Connector's roles, as a desk's outbound app would hold them.
    static func demoClient(admin: DirectoryAdmin, tenant: String, config: ConnectorConfig) async throws
        -> IdentityAdmin.App
    {
        let app = try await admin.createApp(
            tenant: tenant,
            IdentityAdmin.CreateApp(
                displayName: "Demo Connector client",
                requiredResourceAccess: [.init(resource: config.resource, roles: ConnectorResource.Role.all)]))
        for role in ConnectorResource.Role.all {
            _ = try await admin.grant(
                tenant: tenant, client: app.appId, IdentityAdmin.GrantAppRole(resource: config.resource, role: role))
        }
        return app
    }
}

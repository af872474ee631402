import ArgumentParser
import Foundation
import Identity
import ServerSupport
import Vapor
import WireModels

struct IdentityCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "identity",
        abstract: "Manage Identity's directory in DATA (run in the folder whose ./data it manages).",
        subcommands: [Tenants.self, Users.self, Roles.self, Apps.self, Keys.self])
}

/// Opens Identity's database (migrating it if needed), runs `body`, and closes it again.
struct IdentityStore: ParsableArguments {
    @OptionGroup var data: DataOptions

    @Option(
        name: .customLong("database-url"),
        help: "Identity's database (env M365_IDENTITY_DATABASE_URL, default DATA/identity.sqlite).")
    var databaseURL: String?

    @Flag(help: "Print the result as JSON.")
    var json = false

    func run<T: Encodable>(_ body: (DirectoryAdmin, Application) async throws -> T, describe: (T) -> String)
        async throws
    {
        let config = try IdentityConfig.load(
            environment: data.environment, dataDirectory: data.dataURL, masterKey: try data.masterKey(), tls: nil,
            database: databaseURL)
        try await runManagement(
            json: json,
            setUp: { app in
                try await configure(app, config: config)
                try await app.prepareIdentity()
            },
            { app in try await body(app.directoryAdmin(), app) }, describe: describe)
    }
}

extension IdentityCommand {
    struct Tenants: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "tenant", abstract: "Tenants.", subcommands: [Create.self, List.self])

        struct Create: AsyncParsableCommand {
            @OptionGroup var store: IdentityStore
            @Option(help: "Display name.") var name: String
            @Option(help: "Domain name; repeat for more (first is primary).") var domain: [String]
            @Option(help: "Tenant ID (GUID); generated when absent.") var id: String?

            func run() async throws {
                try await store.run(
                    { admin, _ in
                        try await admin.createTenant(.init(name: name, domains: domain, id: id))
                    }, describe: { "Created tenant \($0.name) \($0.id) (\($0.domains.joined(separator: ", ")))" })
            }
        }

        struct List: AsyncParsableCommand {
            @OptionGroup var store: IdentityStore

            func run() async throws {
                try await store.run(
                    { admin, _ in try await admin.listTenants() },
                    describe: {
                        $0.map { "\($0.id)  \($0.name)  \($0.domains.joined(separator: ", "))" }.joined(separator: "\n")
                    })
            }
        }
    }

    struct Users: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "user", abstract: "Users.", subcommands: [Create.self])

        struct Create: AsyncParsableCommand {
            @OptionGroup var store: IdentityStore
            @Option(help: "Tenant ID or domain.") var tenant: String
            @Option(help: "User principal name, e.g. jane@contoso.onmicrosoft.com.") var upn: String
            @Option(name: .customLong("display-name"), help: "Display name.") var displayName: String
            @Option(help: "Mail address (default: the UPN).") var mail: String?
            @Option(help: "Password (env M365_NEW_USER_PASSWORD); generated and printed once when absent.")
            var password: String?
            @Option(help: "Directory role to assign; repeat for more.") var role: [String] = []

            func run() async throws {
                let password = password ?? ProcessInfo.processInfo.environment["M365_NEW_USER_PASSWORD"]
                try await store.run(
                    { admin, _ in
                        var user = try await admin.createUser(
                            tenant: tenant,
                            .init(userPrincipalName: upn, displayName: displayName, mail: mail, password: password))
                        for name in role {
                            let generated = user.password
                            user = try await admin.assignRole(tenant: tenant, user: user.id, role: name)
                            user.password = generated
                        }
                        return user
                    },
                    describe: { user in
                        var text = "Created user \(user.userPrincipalName) \(user.id)"
                        if !user.roles.isEmpty { text += " [\(user.roles.joined(separator: ", "))]" }
                        if let password = user.password { text += "\nPassword (shown once): \(password)" }
                        return text
                    })
            }
        }
    }

    struct Roles: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "role", abstract: "Directory roles.", subcommands: [Assign.self])

        struct Assign: AsyncParsableCommand {
            @OptionGroup var store: IdentityStore
            @Option(help: "Tenant ID or domain.") var tenant: String
            @Option(help: "User object ID or UPN.") var user: String
            @Option(help: "Role name or template ID, e.g. \"Global Administrator\".") var role: String

            func run() async throws {
                try await store.run(
                    { admin, _ in try await admin.assignRole(tenant: tenant, user: user, role: role) },
                    describe: { "\($0.userPrincipalName): \($0.roles.joined(separator: ", "))" })
            }
        }
    }

    struct Apps: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "app", abstract: "App registrations.",
            subcommands: [Create.self, Secret.self, Grant.self, Consent.self])

        struct Create: AsyncParsableCommand {
            @OptionGroup var store: IdentityStore
            @Option(help: "Tenant ID or domain.") var tenant: String
            @Option(help: "Display name.") var name: String
            @Option(name: .customLong("redirect-uri"), help: "Redirect URI; repeat for more.") var redirectURI:
                [String] = []
            @Option(
                name: .customLong("identifier-uri"), help: "Identifier URI (default api://{appId}); repeat for more.")
            var identifierURI: [String] = []
            @Option(
                name: .customLong("app-role"), help: "App role value this app offers as a resource; repeat for more.")
            var appRole: [String] = []
            @Option(
                name: .customLong("token-version"),
                help: "Access token version issued for this app as resource: 1 or 2.")
            var tokenVersion: Int = 1
            @Flag(name: .customLong("no-secret"), help: "Create no client secret.") var noSecret = false
            @Option(help: "Delegated permission this app exposes that users may consent to; repeat for more.")
            var scope: [String] = []
            @Option(
                name: .customLong("admin-scope"),
                help: "Delegated permission this app exposes that only an administrator may consent to.")
            var adminScope: [String] = []
            @Option(
                name: .customLong("require-scope"),
                help:
                    "Delegated permission the app requires, as RESOURCE=VALUE (https://graph.microsoft.com=User.Read).")
            var requireScope: [String] = []
            @Option(
                name: .customLong("require-role"),
                help: "Application role the app requires, as RESOURCE=VALUE.")
            var requireRole: [String] = []

            func run() async throws {
                var required: [String: IdentityAdmin.RequiredAccess] = [:]
                for (entries, isScope) in [(requireScope, true), (requireRole, false)] {
                    for entry in entries {
                        guard let split = entry.lastIndex(of: "="), split != entry.startIndex else {
                            throw ValidationError("'\(entry)' is not RESOURCE=VALUE.")
                        }
                        let resource = String(entry[..<split])
                        let value = String(entry[entry.index(after: split)...])
                        var access = required[resource] ?? IdentityAdmin.RequiredAccess(resource: resource)
                        if isScope {
                            access.scopes = (access.scopes ?? []) + [value]
                        } else {
                            access.roles = (access.roles ?? []) + [value]
                        }
                        required[resource] = access
                    }
                }
                let exposed =
                    scope.map { IdentityAdmin.ExposedScope(value: $0, adminConsentRequired: false) }
                    + adminScope.map { IdentityAdmin.ExposedScope(value: $0, adminConsentRequired: true) }
                try await store.run(
                    { admin, _ in
                        try await admin.createApp(
                            tenant: tenant,
                            .init(
                                displayName: name, redirectUris: redirectURI, identifierUris: identifierURI,
                                appRoles: appRole,
                                accessTokenVersion: tokenVersion, withSecret: !noSecret, exposedScopes: exposed,
                                requiredResourceAccess: required.keys.sorted().compactMap { required[$0] }))
                    },
                    describe: { app in
                        var text =
                            "Created app \(app.displayName)\n  appId: \(app.appId)\n  identifier URIs: \(app.identifierUris.joined(separator: ", "))"
                        if let secret = app.secret { text += "\n  secret (shown once): \(secret)" }
                        return text
                    })
            }
        }

        struct Secret: AsyncParsableCommand {
            static let configuration = CommandConfiguration(abstract: "Client secrets.", subcommands: [Add.self])

            struct Add: AsyncParsableCommand {
                @OptionGroup var store: IdentityStore
                @Option(help: "Tenant ID or domain.") var tenant: String
                @Option(help: "The app's appId.") var app: String
                @Option(help: "Description.") var name: String?
                @Option(help: "Lifetime in days (1–730, default 180).") var days: Int?

                func run() async throws {
                    try await store.run(
                        { admin, _ in
                            try await admin.addSecret(tenant: tenant, app: app, .init(displayName: name, days: days))
                        },
                        describe: {
                            "Secret \($0.secretId) expires \($0.expiresAt)\n  value (shown once): \($0.secret)"
                        })
                }
            }
        }

        struct Grant: AsyncParsableCommand {
            static let configuration = CommandConfiguration(
                abstract: "Grant an app an application role of another app (e.g. Graph's Directory.Read.All).")

            @OptionGroup var store: IdentityStore
            @Option(help: "Tenant ID or domain.") var tenant: String
            @Option(help: "The client app's appId.") var client: String
            @Option(help: "Resource appId or identifier URI, e.g. https://graph.microsoft.com.") var resource: String
            @Option(help: "App role value.") var role: String

            func run() async throws {
                try await store.run(
                    { admin, _ in
                        try await admin.grant(tenant: tenant, client: client, .init(resource: resource, role: role))
                    }, describe: { "Granted \($0.role) of \($0.resourceAppId) to \($0.clientAppId)" })
            }
        }

        struct Consent: AsyncParsableCommand {
            static let configuration = CommandConfiguration(
                abstract: "Consent to delegated permissions of a resource for a client app: for the whole tenant "
                    + "(admin consent), or with --user for one user.")

            @OptionGroup var store: IdentityStore
            @Option(help: "Tenant ID or domain.") var tenant: String
            @Option(help: "The client app's appId.") var client: String
            @Option(help: "Resource appId or identifier URI, e.g. https://graph.microsoft.com.") var resource: String
            @Option(help: "Permission value; repeat for more (default: what the client requires of the resource).")
            var scope: [String] = []
            @Option(help: "User object ID or UPN consenting for themselves (default: the whole tenant).")
            var user: String?

            func run() async throws {
                try await store.run(
                    { admin, _ in
                        try await admin.grantConsent(
                            tenant: tenant, client: client,
                            .init(resource: resource, scopes: scope.isEmpty ? nil : scope, user: user))
                    },
                    describe: { consent in
                        "Consented (\(consent.consentType)\(consent.principalId.map { " \($0)" } ?? "")) to "
                            + "\(consent.scopes.joined(separator: " ")) of \(consent.resourceAppId) for \(consent.clientAppId)"
                    })
            }
        }
    }

    struct Keys: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Token signing keys.", subcommands: [Rotate.self, List.self])

        struct Rotate: AsyncParsableCommand {
            static let configuration = CommandConfiguration(
                abstract: "Sign new tokens with a new key; the old key stays published until its tokens expire.")
            @OptionGroup var store: IdentityStore

            func run() async throws {
                try await store.run(
                    { _, app in
                        let keys = SigningKeyAdmin(database: app.db, keyRing: app.identity.keyRing)
                        try await keys.rotate()
                        return try await keys.list()
                    }, describe: Keys.describe)
            }
        }

        struct List: AsyncParsableCommand {
            @OptionGroup var store: IdentityStore

            func run() async throws {
                try await store.run(
                    { _, app in
                        try await SigningKeyAdmin(database: app.db, keyRing: app.identity.keyRing).list()
                    }, describe: Keys.describe)
            }
        }

        static func describe(_ keys: [IdentityAdmin.SigningKey]) -> String {
            keys.map { key in
                let state =
                    key.active ? "active" : "retired, published until \(key.publishedUntil.map { "\($0)" } ?? "-")"
                return "\(key.kid)  created \(key.createdAt)  \(state)"
            }.joined(separator: "\n")
        }
    }
}

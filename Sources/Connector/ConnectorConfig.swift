import Foundation
import ServerSupport
import SolutionSearch
import WireModels

/// Everything the Connector needs to run, built once at start and passed to ``configure(_:config:)``.
package struct ConnectorConfig: Sendable {
    /// `M365_CONNECTOR_HOST` (else `M365_HOST`, default 127.0.0.1), `M365_CONNECTOR_PORT` (8444),
    /// `M365_CONNECTOR_PUBLIC_URL` (default `https://127.0.0.1:{port}`): the base of `@odata.nextLink`.
    package var endpoint: ServiceEndpoint
    /// `M365_CONNECTOR_DATABASE_URL`: `postgres://…` or an SQLite path; default `{data}/connector.sqlite`.
    package var database: DatabaseLocation
    package var tls: TLSSettings?
    /// `M365_MASTER_KEY` or `{data}/master.key`: seals repository and Graph secrets.
    package var masterKey: MasterKey
    /// `M365_CONNECTOR_AUTHORITY`: the identity provider whose tokens the Connector accepts — Identity's public
    /// URL by default, `https://login.microsoftonline.com` for Entra ID. A token of tenant T is checked against
    /// `{authority}/T/.well-known/openid-configuration` (v1 tokens) or `{authority}/T/v2.0/…` (v2 tokens).
    package var authority: String
    /// `M365_CONNECTOR_RESOURCE` (`api://m365-support-connector`): the Connector's resource identifier, the
    /// audience of v1 tokens. v2 tokens carry the Connector's app ID in the tenant instead.
    package var resource: String
    /// How long the provider's metadata and keys are kept (an unknown key fetches them at once).
    package var metadataLifespan: TimeInterval
    /// `M365_CONNECTOR_ADMIN_TOKEN`: the operator's admin API bearer token; `serve` generates
    /// `{data}/connector-admin-token` when unset. nil turns the admin API off.
    package var adminToken: String?
    /// `M365_CONNECTOR_GRAPH_URL` (`https://graph.microsoft.com`): where live service health is read from.
    package var graphBaseURL: String
    /// `M365_CONNECTOR_GRAPH_TOKEN_URL` (`https://login.microsoftonline.com/{tenant}/oauth2/v2.0/token`): where
    /// the sync gets its app-only Graph token; `{tenant}` becomes the tenant ID.
    package var graphTokenURL: String
    /// `M365_CONNECTOR_GRAPH_SCOPE` (`https://graph.microsoft.com/.default`): the scope of the sync's token.
    package var graphScope: String
    /// `M365_CONNECTOR_GRAPH_SYNC_SECONDS` (300, 30–86400): how often each tenant's live service health is read.
    package var graphSyncInterval: TimeInterval
    /// `M365_CONNECTOR_DIRECTORY_URL`: where tenants' directories are read (Graph's `/v1.0/users/{upn}/memberOf`)
    /// to check that a case's contact is an administrator. Default: the authority itself when it is not Microsoft
    /// Entra's (Identity serves that read), else `https://graph.microsoft.com`.
    package var directoryURL: String
    /// Where the directory read's app-only token comes from (`{tenant}` becomes the tenant ID); scope `graphScope`.
    package var directoryTokenURL: String
    /// `M365_CONNECTOR_SUPPORT_TENANT`: the support provider's own tenant (ID or domain, served by this Connector);
    /// its users sign in to the engineers' console. nil: no console.
    package var supportTenant: String?
    /// Whether writing a case event starts a delivery pass at once (else the next poll, within a second, sends it);
    /// tests that drive deliveries themselves turn it off.
    package var deliversAtOnce = true
    /// `M365_CONNECTOR_DELIVERY_WORKERS` (4, 1–32): deliveries an instance runs at once (always one per case).
    package var deliveryWorkers = 4
    /// `M365_CONNECTOR_SEMANTIC_MODEL`: the sentence encoder's folder (scripts/install-semantic-model.sh), `off`
    /// for lexical search alone; default DATA/models/all-MiniLM-L6-v2 when it is there.
    package var semanticModel: URL?
    /// `M365_CONNECTOR_QUERY_ENCODER`: `distilled` (default: queries read by a query encoder learned from the
    /// sentence encoder on the knowledge base's sentences, a hundred times faster) or `sentence-encoder` (each
    /// query through the whole model: a few milliseconds per search for a ranking within noise of it).
    package var distilledQueries = true
    /// Fewer training sentences than this and queries go through the sentence encoder (tests lower it).
    package var distillationMinimum = DistilledQueryEncoder.minimumTexts
    /// How long a contact's verdict (administrator or not) is kept.
    package var administratorVerdictLifetime: TimeInterval = 300
    package var now: @Sendable () -> Date

    package init(
        endpoint: ServiceEndpoint, database: DatabaseLocation, tls: TLSSettings?, masterKey: MasterKey,
        authority: String, resource: String = ConnectorResource.defaultIdentifier,
        metadataLifespan: TimeInterval = 3600,
        adminToken: String? = nil, graphBaseURL: String = "https://graph.microsoft.com",
        graphTokenURL: String = "https://login.microsoftonline.com/{tenant}/oauth2/v2.0/token",
        graphScope: String = "https://graph.microsoft.com/.default", graphSyncInterval: TimeInterval = 300,
        now: @escaping @Sendable () -> Date = { Date() }
    ) {
        self.endpoint = endpoint
        self.database = database
        self.tls = tls
        self.masterKey = masterKey
        self.authority = authority.hasSuffix("/") ? String(authority.dropLast()) : authority
        self.resource = resource
        self.metadataLifespan = metadataLifespan
        self.adminToken = adminToken
        self.graphBaseURL = graphBaseURL.hasSuffix("/") ? String(graphBaseURL.dropLast()) : graphBaseURL
        self.graphTokenURL = graphTokenURL
        self.graphScope = graphScope
        self.graphSyncInterval = graphSyncInterval
        let authority = self.authority
        let entra = URL(string: authority)?.host?.hasSuffix("login.microsoftonline.com") ?? false
        self.directoryURL = entra ? "https://graph.microsoft.com" : authority
        self.directoryTokenURL = authority + "/{tenant}/oauth2/v2.0/token"
        self.now = now
    }

    /// Reads the `M365_CONNECTOR_*` variables; `host`, `port` and `database` given here (flags) win. The default
    /// authority is Identity's public URL (`M365_IDENTITY_PUBLIC_URL`, else `https://127.0.0.1:{identity port}`).
    package static let defaultSemanticModel = "all-MiniLM-L6-v2"

    package static func load(
        environment: EnvironmentReader, dataDirectory: URL, tls: TLSSettings?, masterKey: MasterKey,
        host: String? = nil, port: Int? = nil, database: String? = nil, identityPort: Int? = nil
    ) throws -> ConnectorConfig {
        let endpoint = ServiceEndpoint(
            host: host ?? environment.string("M365_CONNECTOR_HOST") ?? environment.string("M365_HOST") ?? "127.0.0.1",
            port: try port ?? environment.int("M365_CONNECTOR_PORT") ?? 8444,
            usesTLS: tls?.servesTLS ?? false,
            publicURL: environment.string("M365_CONNECTOR_PUBLIC_URL"))
        let location =
            try (database ?? environment.string("M365_CONNECTOR_DATABASE_URL")).map(DatabaseLocation.parse)
            ?? .sqliteFile(dataDirectory.appendingPathComponent("connector.sqlite"))
        let identityPort = try identityPort ?? environment.int("M365_IDENTITY_PORT") ?? 8443
        let authority =
            environment.string("M365_CONNECTOR_AUTHORITY") ?? environment.string("M365_IDENTITY_PUBLIC_URL")
            ?? "https://127.0.0.1:\(identityPort)"
        for (name, value) in [("M365_CONNECTOR_AUTHORITY", authority)] where URL(string: value)?.host == nil {
            throw ConfigurationError.invalid(name: name, value: value, expected: "an https URL")
        }
        let sync = try environment.int("M365_CONNECTOR_GRAPH_SYNC_SECONDS") ?? 300
        guard (30...86_400).contains(sync) else {
            throw ConfigurationError.invalid(
                name: "M365_CONNECTOR_GRAPH_SYNC_SECONDS", value: String(sync), expected: "seconds from 30 to 86400")
        }
        var config = ConnectorConfig(
            endpoint: endpoint, database: location, tls: tls, masterKey: masterKey, authority: authority,
            resource: environment.string("M365_CONNECTOR_RESOURCE") ?? ConnectorResource.defaultIdentifier,
            adminToken: environment.string("M365_CONNECTOR_ADMIN_TOKEN"),
            graphBaseURL: environment.string("M365_CONNECTOR_GRAPH_URL") ?? "https://graph.microsoft.com",
            graphTokenURL: environment.string("M365_CONNECTOR_GRAPH_TOKEN_URL")
                ?? "https://login.microsoftonline.com/{tenant}/oauth2/v2.0/token",
            graphScope: environment.string("M365_CONNECTOR_GRAPH_SCOPE") ?? "https://graph.microsoft.com/.default",
            graphSyncInterval: TimeInterval(sync))
        if let url = environment.string("M365_CONNECTOR_DIRECTORY_URL") {
            config.directoryURL = url.hasSuffix("/") ? String(url.dropLast()) : url
        }
        if let url = environment.string("M365_CONNECTOR_DIRECTORY_TOKEN_URL") { config.directoryTokenURL = url }
        config.supportTenant = environment.string("M365_CONNECTOR_SUPPORT_TENANT")
        let workers = try environment.int("M365_CONNECTOR_DELIVERY_WORKERS") ?? 4
        guard (1...32).contains(workers) else {
            throw ConfigurationError.invalid(
                name: "M365_CONNECTOR_DELIVERY_WORKERS", value: String(workers), expected: "a number from 1 to 32")
        }
        config.deliveryWorkers = workers
        switch environment.string("M365_CONNECTOR_SEMANTIC_MODEL") {
        case "off": config.semanticModel = nil
        case let folder?: config.semanticModel = URL(fileURLWithPath: folder)
        case nil:
            let installed = dataDirectory.appendingPathComponent("models/\(Self.defaultSemanticModel)")
            let present = FileManager.default.fileExists(
                atPath: installed.appendingPathComponent("model.safetensors").path)
            config.semanticModel = present ? installed : nil
        }
        switch environment.string("M365_CONNECTOR_QUERY_ENCODER") {
        case nil, "distilled": config.distilledQueries = true
        case "sentence-encoder": config.distilledQueries = false
        case let other?:
            throw ConfigurationError.invalid(
                name: "M365_CONNECTOR_QUERY_ENCODER", value: other, expected: "distilled or sentence-encoder")
        }
        return config
    }
}

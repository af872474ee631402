import Fluent
import Foundation
import Vapor
import WireModels

/// OpenID Connect discovery (v1 and v2), the JWKS endpoints and MSAL's instance discovery.
struct DiscoveryController: RouteCollection {
    /// Path segments that stand for "any tenant", as in Entra.
    static let multiTenantAliases: Set<String> = ["common", "organizations", "consumers"]

    func boot(routes: any RoutesBuilder) throws {
        routes.get(":tenant", ".well-known", "openid-configuration", use: v1Configuration)
        routes.get(":tenant", "v2.0", ".well-known", "openid-configuration", use: v2Configuration)
        routes.get(":tenant", "discovery", "keys", use: v1Keys)
        routes.get(":tenant", "discovery", "v2.0", "keys", use: v2Keys)
        // A constant `common` segment would shadow `:tenant` for every other `/common/…` path (the router does
        // not backtrack), so instance discovery takes the parameter too.
        routes.get(":tenant", "discovery", "instance", use: instanceDiscovery)
    }

    func v1Configuration(_ request: Request) async throws -> Response {
        let tenantId = try await tenantIdOrTemplate(request)
        let urls = request.identity.issuer
        let base = urls.baseURL + "/\(tenantId)"
        let document = OpenIDConfiguration(
            issuer: tenantId == "{tenantid}" ? urls.baseURL + "/{tenantid}/" : urls.v1Issuer(tenantId: tenantId),
            authorizationEndpoint: base + "/oauth2/authorize",
            tokenEndpoint: base + "/oauth2/token",
            jwksUri: urls.url(IdentityPath.v1Keys(tenant: "common")),
            endSessionEndpoint: base + "/oauth2/logout",
            userinfoEndpoint: base + "/openid/userinfo",
            responseTypesSupported: ["code", "id_token", "code id_token", "token id_token", "token"],
            scopesSupported: ["openid"],
            claimsSupported: [
                "sub", "iss", "cloud_instance_name", "cloud_instance_host_name", "cloud_graph_host_name",
                "msgraph_host",
                "aud", "exp", "iat", "auth_time", "acr", "amr", "nonce", "email", "given_name", "family_name",
                "nickname",
            ],
            requestUriParameterSupported: nil,
            msgraphHost: msgraphHost(request))
        return try cached(document, maxAge: 86400)
    }

    func v2Configuration(_ request: Request) async throws -> Response {
        let tenantId = try await tenantIdOrTemplate(request)
        let urls = request.identity.issuer
        let base = urls.baseURL + "/\(tenantId)"
        let document = OpenIDConfiguration(
            issuer: urls.v2Issuer(tenantId: tenantId),
            authorizationEndpoint: base + "/oauth2/v2.0/authorize",
            tokenEndpoint: base + "/oauth2/v2.0/token",
            jwksUri: urls.url(IdentityPath.v2Keys(tenant: tenantId == "{tenantid}" ? "common" : tenantId)),
            endSessionEndpoint: base + "/oauth2/v2.0/logout",
            userinfoEndpoint: base + "/openid/userinfo",
            responseTypesSupported: ["code", "id_token", "code id_token", "id_token token"],
            scopesSupported: ["openid", "profile", "email", "offline_access"],
            claimsSupported: [
                "sub", "iss", "cloud_instance_name", "cloud_instance_host_name", "cloud_graph_host_name",
                "msgraph_host",
                "aud", "exp", "iat", "auth_time", "acr", "nonce", "preferred_username", "name", "tid", "ver", "at_hash",
                "c_hash", "email",
            ],
            requestUriParameterSupported: false,
            msgraphHost: msgraphHost(request))
        return try cached(document, maxAge: 86400)
    }

    func v1Keys(_ request: Request) async throws -> Response {
        _ = try await tenantIdOrTemplate(request)
        let keys = try await request.identity.keyRing.publishedKeys(on: request.db)
        return try cached(JSONWebKeySet(keys: keys.map(\.jwk)), maxAge: 300)
    }

    func v2Keys(_ request: Request) async throws -> Response {
        let tenantId = try await tenantIdOrTemplate(request)
        let issuer = request.identity.issuer.v2Issuer(tenantId: tenantId)
        let keys = try await request.identity.keyRing.publishedKeys(on: request.db).map { key -> JSONWebKey in
            var jwk = key.jwk
            jwk.issuer = issuer
            return jwk
        }
        return try cached(JSONWebKeySet(keys: keys), maxAge: 300)
    }

    /// What MSAL asks `login.microsoftonline.com` about an authority when instance discovery is on.
    func instanceDiscovery(_ request: Request) async throws -> Response {
        guard try request.parameters.require("tenant").lowercased() == "common" else {
            throw Abort(.notFound)
        }
        let authority = request.query[String.self, at: "authorization_endpoint"] ?? ""
        let host = URLComponents(string: request.identity.issuer.baseURL)?.host ?? "localhost"
        let tenant = authority.split(separator: "/").dropFirst(2).first.map(String.init) ?? "common"
        let body: [String: AnyEncodableValue] = [
            "tenant_discovery_endpoint": .string(
                request.identity.issuer.url(IdentityPath.v2Discovery(tenant: tenant))),
            "api-version": .string("1.1"),
            "metadata": .array([
                .object([
                    "preferred_network": .string(host), "preferred_cache": .string(host),
                    "aliases": .array([.string(host)]),
                ])
            ]),
        ]
        return try cached(body, maxAge: 86400)
    }

    /// The tenant's ID, or `{tenantid}` for the multi-tenant aliases; AADSTS90002 for unknown tenants.
    private func tenantIdOrTemplate(_ request: Request) async throws -> String {
        let identifier = try request.parameters.require("tenant")
        if Self.multiTenantAliases.contains(identifier.lowercased()) { return "{tenantid}" }
        return try await Tenant.require(identifier, on: request.db).tenantId
    }

    private func msgraphHost(_ request: Request) -> String {
        URLComponents(string: request.identity.issuer.baseURL).flatMap { c in
            c.host.map { h in c.port.map { "\(h):\($0)" } ?? h }
        }
            ?? "graph.microsoft.com"
    }

    private func cached(_ body: some Encodable, maxAge: Int) throws -> Response {
        let response = Response(status: .ok)
        response.headers.contentType = .json
        response.headers.replaceOrAdd(name: .cacheControl, value: "max-age=\(maxAge), private")
        let encoder = JSONEncoder()
        encoder.outputFormatting = .withoutEscapingSlashes
        response.body = .init(data: try encoder.encode(body))
        return response
    }
}

/// A small JSON value for documents without a fixed type.
indirect enum AnyEncodableValue: Encodable {
    case string(String)
    case array([AnyEncodableValue])
    case object([String: AnyEncodableValue])

    func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        switch self {
        case .string(let value): try container.encode(value)
        case .array(let value): try container.encode(value)
        case .object(let value): try container.encode(value)
        }
    }
}

import Foundation

/// The OpenID Connect discovery document, with the fields Entra publishes for v1 and v2.
package struct OpenIDConfiguration: Codable, Sendable, Equatable {
    package var issuer: String
    package var authorizationEndpoint: String
    package var tokenEndpoint: String
    package var jwksUri: String
    package var endSessionEndpoint: String
    package var userinfoEndpoint: String
    package var tokenEndpointAuthMethodsSupported: [String]
    package var responseModesSupported: [String]
    package var responseTypesSupported: [String]
    package var subjectTypesSupported: [String]
    package var idTokenSigningAlgValuesSupported: [String]
    package var scopesSupported: [String]
    package var claimsSupported: [String]
    package var codeChallengeMethodsSupported: [String]
    package var httpLogoutSupported: Bool
    package var frontchannelLogoutSupported: Bool
    package var requestUriParameterSupported: Bool?
    package var tenantRegionScope: String
    package var cloudInstanceName: String
    package var cloudGraphHostName: String
    package var msgraphHost: String

    package init(
        issuer: String, authorizationEndpoint: String, tokenEndpoint: String, jwksUri: String,
        endSessionEndpoint: String, userinfoEndpoint: String, responseTypesSupported: [String],
        scopesSupported: [String], claimsSupported: [String], requestUriParameterSupported: Bool?,
        msgraphHost: String
    ) {
        self.issuer = issuer
        self.authorizationEndpoint = authorizationEndpoint
        self.tokenEndpoint = tokenEndpoint
        self.jwksUri = jwksUri
        self.endSessionEndpoint = endSessionEndpoint
        self.userinfoEndpoint = userinfoEndpoint
        self.tokenEndpointAuthMethodsSupported = ["client_secret_post", "private_key_jwt", "client_secret_basic"]
        self.responseModesSupported = ["query", "fragment", "form_post"]
        self.responseTypesSupported = responseTypesSupported
        self.subjectTypesSupported = ["pairwise"]
        self.idTokenSigningAlgValuesSupported = ["RS256"]
        self.scopesSupported = scopesSupported
        self.claimsSupported = claimsSupported
        self.codeChallengeMethodsSupported = ["plain", "S256"]
        self.httpLogoutSupported = true
        self.frontchannelLogoutSupported = true
        self.requestUriParameterSupported = requestUriParameterSupported
        self.tenantRegionScope = "WW"
        self.cloudInstanceName = "microsoftonline.com"
        self.cloudGraphHostName = "graph.windows.net"
        self.msgraphHost = msgraphHost
    }

    enum CodingKeys: String, CodingKey {
        case issuer
        case authorizationEndpoint = "authorization_endpoint"
        case tokenEndpoint = "token_endpoint"
        case jwksUri = "jwks_uri"
        case endSessionEndpoint = "end_session_endpoint"
        case userinfoEndpoint = "userinfo_endpoint"
        case tokenEndpointAuthMethodsSupported = "token_endpoint_auth_methods_supported"
        case responseModesSupported = "response_modes_supported"
        case responseTypesSupported = "response_types_supported"
        case subjectTypesSupported = "subject_types_supported"
        case idTokenSigningAlgValuesSupported = "id_token_signing_alg_values_supported"
        case scopesSupported = "scopes_supported"
        case claimsSupported = "claims_supported"
        case codeChallengeMethodsSupported = "code_challenge_methods_supported"
        case httpLogoutSupported = "http_logout_supported"
        case frontchannelLogoutSupported = "frontchannel_logout_supported"
        case requestUriParameterSupported = "request_uri_parameter_supported"
        case tenantRegionScope = "tenant_region_scope"
        case cloudInstanceName = "cloud_instance_name"
        case cloudGraphHostName = "cloud_graph_host_name"
        case msgraphHost = "msgraph_host"
    }
}

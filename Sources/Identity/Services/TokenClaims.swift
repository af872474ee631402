import Foundation

/// The claims of the access and ID tokens Identity issues, named as Entra names them. Absent claims are omitted.
package struct TokenClaims: Codable, Sendable, Equatable {
    package var aud: String?
    package var iss: String?
    package var iat: Int?
    package var nbf: Int?
    package var exp: Int?
    package var acr: String?
    package var amr: [String]?
    package var appid: String?
    package var appidacr: String?
    package var azp: String?
    package var azpacr: String?
    package var email: String?
    package var idp: String?
    package var idtyp: String?
    package var name: String?
    package var nonce: String?
    package var oid: String?
    package var preferredUsername: String?
    package var roles: [String]?
    package var scp: String?
    package var sub: String?
    package var tid: String?
    package var uniqueName: String?
    package var upn: String?
    package var uti: String?
    package var ver: String?
    package var wids: [String]?

    package init() {}

    enum CodingKeys: String, CodingKey {
        case aud, iss, iat, nbf, exp, acr, amr, appid, appidacr, azp, azpacr, email, idp, idtyp, name, nonce, oid
        case preferredUsername = "preferred_username"
        case roles, scp, sub, tid
        case uniqueName = "unique_name"
        case upn, uti, ver, wids
    }

    /// The calling application, whatever the token version.
    package var clientAppId: String? { appid ?? azp }
}

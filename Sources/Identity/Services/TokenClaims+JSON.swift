import Foundation
import ServerSupport

extension TokenClaims {
    /// The claims as compact JSON, written directly: every token is signed over this, and Foundation's
    /// `JSONEncoder` costs more than the rest of building a token. Decoding stays `Codable`; a test checks
    /// that both agree.
    func jsonBytes() -> [UInt8] {
        var writer = CompactJSONObject()
        writer.add("aud", aud)
        writer.add("iss", iss)
        writer.add("iat", iat)
        writer.add("nbf", nbf)
        writer.add("exp", exp)
        writer.add("acr", acr)
        writer.add("amr", amr)
        writer.add("appid", appid)
        writer.add("appidacr", appidacr)
        writer.add("azp", azp)
        writer.add("azpacr", azpacr)
        writer.add("email", email)
        writer.add("idp", idp)
        writer.add("idtyp", idtyp)
        writer.add("name", name)
        writer.add("nonce", nonce)
        writer.add("oid", oid)
        writer.add("preferred_username", preferredUsername)
        writer.add("roles", roles)
        writer.add("scp", scp)
        writer.add("sub", sub)
        writer.add("tid", tid)
        writer.add("unique_name", uniqueName)
        writer.add("upn", upn)
        writer.add("uti", uti)
        writer.add("ver", ver)
        writer.add("wids", wids)
        return writer.finish()
    }
}

/// A flat JSON object of strings, integers and string arrays; absent (nil) members are left out.
struct CompactJSONObject {
    private var bytes: [UInt8] = [UInt8(ascii: "{")]

    mutating func add(_ key: String, _ value: String?) {
        guard let value else { return }
        member(key)
        string(value)
    }

    mutating func add(_ key: String, _ value: Int?) {
        guard let value else { return }
        member(key)
        bytes.append(contentsOf: String(value).utf8)
    }

    mutating func add(_ key: String, _ value: [String]?) {
        guard let value else { return }
        member(key)
        bytes.append(UInt8(ascii: "["))
        for (index, item) in value.enumerated() {
            if index > 0 { bytes.append(UInt8(ascii: ",")) }
            string(item)
        }
        bytes.append(UInt8(ascii: "]"))
    }

    mutating func finish() -> [UInt8] {
        bytes.append(UInt8(ascii: "}"))
        return bytes
    }

    private mutating func member(_ key: String) {
        if bytes.count > 1 { bytes.append(UInt8(ascii: ",")) }
        string(key)
        bytes.append(UInt8(ascii: ":"))
    }

    private mutating func string(_ value: String) {
        JSONText.appendString(value, to: &bytes)
    }
}

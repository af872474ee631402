import WireModels

// Token responses written directly, like the tokens inside them (see `TokenClaims.jsonBytes()`);
// the tests decode them with the `Codable` wire models.

extension TokenResponseV1 {
    func jsonBytes() -> [UInt8] {
        var writer = CompactJSONObject()
        writer.add("token_type", tokenType)
        writer.add("expires_in", expiresIn)
        writer.add("ext_expires_in", extExpiresIn)
        writer.add("expires_on", expiresOn)
        writer.add("not_before", notBefore)
        writer.add("resource", resource)
        writer.add("access_token", accessToken)
        writer.add("scope", scope)
        writer.add("refresh_token", refreshToken)
        writer.add("id_token", idToken)
        return writer.finish()
    }
}

extension TokenResponseV2 {
    func jsonBytes() -> [UInt8] {
        var writer = CompactJSONObject()
        writer.add("token_type", tokenType)
        writer.add("expires_in", expiresIn)
        writer.add("ext_expires_in", extExpiresIn)
        writer.add("access_token", accessToken)
        writer.add("scope", scope)
        writer.add("refresh_token", refreshToken)
        writer.add("id_token", idToken)
        return writer.finish()
    }
}

import Foundation
import NIOHTTP1

/// Removes secrets from what the logs keep.
package enum Redaction {
    package static let marker = "[redacted]"
    package static let sensitiveHeaders: Set<String> = ["authorization", "proxy-authorization", "cookie", "set-cookie"]
    package static let sensitiveParameters = [
        "secret", "token", "password", "passwd", "code", "assertion", "key", "signature", "sig",
    ]

    /// `text` with every non-empty secret replaced (also in its percent-encoded form).
    package static func text(_ text: String, secrets: [String]) -> String {
        var result = text
        for secret in secrets where secret.count >= 4 {
            result = result.replacingOccurrences(of: secret, with: marker)
            if let encoded = secret.addingPercentEncoding(withAllowedCharacters: .alphanumerics), encoded != secret {
                result = result.replacingOccurrences(of: encoded, with: marker)
            }
        }
        return result
    }

    /// Headers as `Name: value` lines; credentials and cookies redacted.
    package static func headers(_ headers: HTTPHeaders, secrets: [String]) -> String {
        headers.map { name, value in
            sensitiveHeaders.contains(name.lowercased())
                ? "\(name): \(marker)" : "\(name): \(text(value, secrets: secrets))"
        }.joined(separator: "\n")
    }

    /// The URL with the values of query parameters that could carry credentials redacted.
    package static func url(_ url: String, secrets: [String]) -> String {
        guard var components = URLComponents(string: url) else { return text(url, secrets: secrets) }
        components.user = nil
        components.password = nil
        components.queryItems = components.queryItems?.map { item in
            let name = item.name.lowercased()
            return sensitiveParameters.contains(where: { name.contains($0) })
                ? URLQueryItem(name: item.name, value: marker) : item
        }
        return text(components.string ?? url, secrets: secrets)
    }
}

import Foundation

/// `data/demo.json`: every credential the demo seed creates, one section per service, mode 0600.
///
/// Sections are merged, so each service adds its own without losing the others'.
package struct DemoCredentialsFile: Sendable {
    package let url: URL

    package init(dataDirectory: URL) {
        self.url = dataDirectory.appendingPathComponent("demo.json")
    }

    package func read() throws -> [String: Any] {
        guard FileManager.default.fileExists(atPath: url.path) else { return [:] }
        let object = try JSONSerialization.jsonObject(with: Data(contentsOf: url))
        return object as? [String: Any] ?? [:]
    }

    package func section<T: Decodable>(_ name: String, as type: T.Type) throws -> T? {
        guard let value = try read()[name] else { return nil }
        let data = try JSONSerialization.data(withJSONObject: value)
        return try JSONDecoder.iso8601.decode(T.self, from: data)
    }

    package func write<T: Encodable>(section name: String, _ value: T) throws {
        var document = try read()
        let data = try JSONEncoder.iso8601.encode(value)
        document[name] = try JSONSerialization.jsonObject(with: data)
        let output = try JSONSerialization.data(withJSONObject: document, options: [.prettyPrinted, .sortedKeys])
        try SecureFile.write(output, to: url, private: true)
    }
}

extension JSONEncoder {
    package static var iso8601: JSONEncoder {
        let encoder = JSONEncoder()
        encoder.dateEncodingStrategy = .iso8601
        encoder.outputFormatting = [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes]
        return encoder
    }
}

extension JSONDecoder {
    package static var iso8601: JSONDecoder {
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .iso8601
        return decoder
    }
}

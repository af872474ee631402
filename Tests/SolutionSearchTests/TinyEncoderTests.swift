import Foundation
import Testing

@testable import SolutionSearch

/// A tiny BERT written by the test (two heads, width 8, one layer): the encoder runs in every environment, and a
/// damaged model file is refused with an error, never a crash.
@Suite struct TinyEncoderTests {
    static let vocabulary = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "outlook", "password", "crash", "##es", "mail"]
    static let shape = (width: 8, heads: 2, intermediate: 16, positions: 130)

    /// name → shape of every tensor a one-layer model has.
    static var tensors: [(String, [Int])] {
        let (width, _, wide, positions) = shape
        var list: [(String, [Int])] = [
            ("embeddings.word_embeddings.weight", [vocabulary.count, width]),
            ("embeddings.position_embeddings.weight", [positions, width]),
            ("embeddings.token_type_embeddings.weight", [2, width]),
            ("embeddings.LayerNorm.weight", [width]), ("embeddings.LayerNorm.bias", [width]),
        ]
        let layer = "encoder.layer.0."
        for part in ["query", "key", "value"] {
            list.append((layer + "attention.self.\(part).weight", [width, width]))
            list.append((layer + "attention.self.\(part).bias", [width]))
        }
        list += [
            (layer + "attention.output.dense.weight", [width, width]), (layer + "attention.output.dense.bias", [width]),
            (layer + "attention.output.LayerNorm.weight", [width]),
            (layer + "attention.output.LayerNorm.bias", [width]),
            (layer + "intermediate.dense.weight", [wide, width]), (layer + "intermediate.dense.bias", [wide]),
            (layer + "output.dense.weight", [width, wide]), (layer + "output.dense.bias", [width]),
            (layer + "output.LayerNorm.weight", [width]), (layer + "output.LayerNorm.bias", [width]),
        ]
        return list
    }

    /// The safetensors bytes of the tiny model, weights from a fixed sequence.
    static func safetensors() -> Data {
        var header: [String: Any] = ["__metadata__": ["format": "pt"]]
        var body = Data()
        var seed: UInt32 = 7
        for (name, dimensions) in tensors {
            let count = dimensions.reduce(1, *)
            let start = body.count
            for _ in 0..<count {
                seed = seed &* 1_664_525 &+ 1_013_904_223
                var value = name.hasSuffix("LayerNorm.weight") ? 1 : Float(Int(seed >> 20) % 200 - 100) / 400
                withUnsafeBytes(of: &value) { body.append(contentsOf: $0) }
            }
            header[name] = ["dtype": "F32", "shape": dimensions, "data_offsets": [start, body.count]]
        }
        let json = try! JSONSerialization.data(withJSONObject: header, options: [.sortedKeys])
        var length = UInt64(json.count).littleEndian
        var file = Data()
        withUnsafeBytes(of: &length) { file.append(contentsOf: $0) }
        return file + json + body
    }

    static func folder(model: Data) throws -> URL {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("tiny-bert-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        try model.write(to: folder.appendingPathComponent("model.safetensors"))
        try Data(vocabulary.joined(separator: "\n").utf8).write(to: folder.appendingPathComponent("vocab.txt"))
        let config = """
            {"model_type": "bert", "num_hidden_layers": 1, "hidden_size": \(shape.width),
             "num_attention_heads": \(shape.heads), "intermediate_size": \(shape.intermediate),
             "max_position_embeddings": \(shape.positions), "vocab_size": \(vocabulary.count)}
            """
        try Data(config.utf8).write(to: folder.appendingPathComponent("config.json"))
        return folder
    }

    @Test func encodesWithATinyModel() throws {
        let folder = try Self.folder(model: Self.safetensors())
        defer { try? FileManager.default.removeItem(at: folder) }
        let encoder = try SentenceEncoder(folder: folder)
        #expect(encoder.dimensions == 8)
        #expect(encoder.tokenizer.tokens("Outlook crashes, mail!", limit: 128) == [2, 4, 6, 7, 1, 8, 1, 3])
        let first = encoder.encode("outlook password")
        #expect(first.count == 8 && first.allSatisfy { $0.isFinite })
        #expect(abs(first.reduce(0) { $0 + $1 * $1 } - 1) < 1e-4)
        #expect(encoder.encode("outlook password") == first)
        #expect(encoder.encode("mail crashes") != first)
        #expect(encoder.encode(String(repeating: "mail ", count: 1000)).count == 8)
    }

    @Test func aDamagedModelIsRefusedNotACrash() throws {
        let model = Self.safetensors()
        var random = SystemRandomNumberGenerator()
        var variants: [Data] = [Data(), Data([1, 2, 3]), model.prefix(8), model.prefix(100), model.dropLast(4)]
        for _ in 0..<60 {
            var damaged = model
            // Bytes of the length prefix and the JSON header, where a parser can be led astray.
            for _ in 0..<Int.random(in: 1...4, using: &random) {
                let position = Int.random(in: 0..<min(damaged.count, 1200), using: &random)
                damaged[position] = UInt8.random(in: 0...255, using: &random)
            }
            variants.append(damaged)
        }
        var length = UInt64.max.littleEndian
        var huge = Data()
        withUnsafeBytes(of: &length) { huge.append(contentsOf: $0) }
        variants.append(huge + model.dropFirst(8))
        for variant in variants {
            let folder = try Self.folder(model: variant)
            defer { try? FileManager.default.removeItem(at: folder) }
            if let encoder = try? SentenceEncoder(folder: folder) {
                #expect(encoder.encode("outlook password").count == 8)
            }
        }
        // A tensor of the wrong shape is named.
        let folder = try Self.folder(model: model)
        defer { try? FileManager.default.removeItem(at: folder) }
        try Data(#"{"model_type": "bert", "hidden_size": 16, "num_attention_heads": 2, "num_hidden_layers": 1}"#.utf8)
            .write(to: folder.appendingPathComponent("config.json"))
        #expect(throws: SemanticModelError.self) { try SentenceEncoder(folder: folder) }
    }
}

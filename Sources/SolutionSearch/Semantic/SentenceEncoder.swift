import CEncoderKernels
import Foundation
import Synchronization

/// A sentence encoder of the BERT family (all-MiniLM-L6-v2 as the project installs it: six layers, 384 wide),
/// run in-process: text in, a unit vector out whose dot product with another text's says how alike they mean.
/// Weights come from the model folder's `model.safetensors`, the vocabulary from its `vocab.txt`; the sentence
/// vector is the mean of the last layer over the tokens (the model's pooling), normalised.
public final class SentenceEncoder: Sendable {
    /// The shape the weights must have; read from the folder's `config.json` when present.
    struct Shape: Sendable, Equatable {
        var layers = 6
        var width = 384
        var heads = 12
        var intermediate = 1536
        var positions = 512
        var vocabulary = 30522
    }

    /// How the linear layers multiply. `int8`: weights and each row of inputs as bytes with a scale, sums in exact
    /// integers — with the processor's byte dot products (AVX-512 VNNI) several times fewer instructions, and a
    /// quarter of the weights' memory; the vectors stay within a small angle of the 32-bit ones (docs/search.md,
    /// experiment 24). `float32`: the model's own numbers.
    public enum Precision: String, Sendable {
        case float32
        case int8

        /// `int8` where the processor has byte dot products, else `float32` (bytes widened to floats are slower).
        public static let fastest: Precision = ek_has_int8_path() != 0 ? .int8 : .float32
    }

    /// One linear layer: in × out weights in the kernel's panels, and the bias.
    struct Linear: Sendable {
        enum Weights: Sendable {
            case float32([Float])
            case int8([Int8], scales: [Float], sums: [Int32])
        }
        let weights: Weights
        let bias: [Float]
        let inputs: Int
        let outputs: Int

        /// From in × out weights.
        init(transposed: [Float], inputs: Int, outputs: Int, bias: [Float], precision: Precision) {
            switch precision {
            case .float32:
                var packed = [Float](repeating: 0, count: ek_packed_count(inputs, outputs))
                ek_pack(transposed, inputs, outputs, &packed)
                weights = .float32(packed)
            case .int8:
                var packed = [Int8](repeating: 0, count: ek_q8_packed_count(inputs, outputs))
                var scales = [Float](repeating: 0, count: outputs)
                var sums = [Int32](repeating: 0, count: outputs)
                ek_pack_q8(transposed, inputs, outputs, &packed, &scales, &sums)
                weights = .int8(packed, scales: scales, sums: sums)
            }
            self.bias = bias
            self.inputs = inputs
            self.outputs = outputs
        }
    }

    struct Layer: Sendable {
        /// Query, key and value in one: width × 3·width.
        let qkv: Linear
        let output: Linear
        let attentionNormGain: [Float]
        let attentionNormBias: [Float]
        let intermediate: Linear
        let down: Linear
        let normGain: [Float]
        let normBias: [Float]
    }

    let shape: Shape
    let tokenizer: WordPieceTokenizer
    let wordEmbeddings: [Float]
    let positionEmbeddings: [Float]
    let typeEmbedding: [Float]
    let embeddingNormGain: [Float]
    let embeddingNormBias: [Float]
    let layers: [Layer]
    /// A name for what produced a vector (folder name, weights' size, precision, ``encodingRevision``): vectors
    /// of another model, or of this one encoded differently, don't mix — stored ones under another name are
    /// encoded again.
    public let modelName: String
    /// Raise it with any change to the tokenizer or the network that changes the vectors the same weights give,
    /// so that the Connector's stored vectors are encoded again rather than mixed with new ones.
    static let encodingRevision = 1
    public var dimensions: Int { shape.width }
    /// Longer texts are cut: the cost grows with the length (and its square), and the start says most. An
    /// article is read to 128 tokens once; a query, on every search, to 64 (measured: tickets rank the same cut
    /// at 48, 64 or 128 tokens; docs/search.md).
    public static let maxTokens = 128
    public static let maxQueryTokens = 64
    /// A query's first characters, ample for ``maxQueryTokens``: longer texts are cut before tokenizing.
    public static let maxQueryCharacters = 4000

    public let precision: Precision

    /// Loads the model in `folder` (`model.safetensors`, `vocab.txt`, optionally `config.json`).
    public init(folder: URL, precision: Precision = .fastest) throws {
        self.precision = precision
        var shape = Shape()
        if let data = try? Data(contentsOf: folder.appendingPathComponent("config.json")),
            let config = try? JSONSerialization.jsonObject(with: data) as? [String: Any]
        {
            func read(_ key: String, _ value: inout Int) {
                if let number = config[key] as? Int, (1...100_000).contains(number) { value = number }
            }
            read("num_hidden_layers", &shape.layers)
            read("hidden_size", &shape.width)
            read("num_attention_heads", &shape.heads)
            read("intermediate_size", &shape.intermediate)
            read("max_position_embeddings", &shape.positions)
            read("vocab_size", &shape.vocabulary)
            if let type = config["model_type"] as? String, type != "bert" {
                throw SemanticModelError("the model is \(type), not a BERT model")
            }
        }
        guard shape.width % shape.heads == 0, shape.positions >= Self.maxTokens, shape.layers <= 48 else {
            throw SemanticModelError("the model's config.json describes an unusable shape")
        }
        self.shape = shape
        tokenizer = try WordPieceTokenizer(vocabularyFile: folder.appendingPathComponent("vocab.txt"))
        guard tokenizer.vocabulary.values.allSatisfy({ $0 < shape.vocabulary }) else {
            throw SemanticModelError("vocab.txt has more words than the model")
        }
        let file = folder.appendingPathComponent("model.safetensors")
        let tensors = try Safetensors(contentsOf: file)
        // Some exports name the weights with a `bert.` prefix.
        let prefix = tensors.entries["embeddings.word_embeddings.weight"] == nil ? "bert." : ""
        func tensor(_ name: String, _ dimensions: Int...) throws -> [Float] {
            try tensors.floats(prefix + name, shape: dimensions)
        }
        /// PyTorch keeps a linear layer's weight as out × in; the kernel wants in × out.
        func transposed(_ name: String, out: Int, in width: Int) throws -> [Float] {
            let weight = try tensor(name, out, width)
            var result = [Float](repeating: 0, count: weight.count)
            for row in 0..<out {
                for column in 0..<width { result[column * out + row] = weight[row * width + column] }
            }
            return result
        }
        func linear(_ name: String, out: Int, in width: Int) throws -> Linear {
            Linear(
                transposed: try transposed(name + ".weight", out: out, in: width), inputs: width, outputs: out,
                bias: try tensor(name + ".bias", out), precision: precision)
        }
        let width = shape.width
        wordEmbeddings = try tensor("embeddings.word_embeddings.weight", shape.vocabulary, width)
        positionEmbeddings = try tensor("embeddings.position_embeddings.weight", shape.positions, width)
        typeEmbedding = Array(
            try tensors.floats(prefix + "embeddings.token_type_embeddings.weight", shape: [2, width]).prefix(width))
        embeddingNormGain = try tensor("embeddings.LayerNorm.weight", width)
        embeddingNormBias = try tensor("embeddings.LayerNorm.bias", width)
        layers = try (0..<shape.layers).map { number in
            let name = "encoder.layer.\(number)."
            let query = try transposed(name + "attention.self.query.weight", out: width, in: width)
            let key = try transposed(name + "attention.self.key.weight", out: width, in: width)
            let value = try transposed(name + "attention.self.value.weight", out: width, in: width)
            var qkv = [Float](repeating: 0, count: width * 3 * width)
            for row in 0..<width {
                for column in 0..<width {
                    qkv[row * 3 * width + column] = query[row * width + column]
                    qkv[row * 3 * width + width + column] = key[row * width + column]
                    qkv[row * 3 * width + 2 * width + column] = value[row * width + column]
                }
            }
            return Layer(
                qkv: Linear(
                    transposed: qkv, inputs: width, outputs: 3 * width,
                    bias: try tensor(name + "attention.self.query.bias", width)
                        + tensor(name + "attention.self.key.bias", width)
                        + tensor(name + "attention.self.value.bias", width),
                    precision: precision),
                output: try linear(name + "attention.output.dense", out: width, in: width),
                attentionNormGain: try tensor(name + "attention.output.LayerNorm.weight", width),
                attentionNormBias: try tensor(name + "attention.output.LayerNorm.bias", width),
                intermediate: try linear(name + "intermediate.dense", out: shape.intermediate, in: width),
                down: try linear(name + "output.dense", out: width, in: shape.intermediate),
                normGain: try tensor(name + "output.LayerNorm.weight", width),
                normBias: try tensor(name + "output.LayerNorm.bias", width))
        }
        modelName = Self.modelName(
            folder: folder.lastPathComponent, weightBytes: tensors.data.count, precision: precision,
            revision: Self.encodingRevision)
    }

    /// 8-bit weights give slightly different vectors: they are not mixed with the 32-bit ones stored before. The
    /// first revision adds nothing, so vectors stored before revisions were named stay valid.
    static func modelName(folder: String, weightBytes: Int, precision: Precision, revision: Int) -> String {
        "\(folder)/\(weightBytes)" + (precision == .int8 ? "/int8" : "") + (revision > 1 ? "/r\(revision)" : "")
    }

    /// The unit vector of `text` (its first `limit` tokens, at most ``maxTokens``). With `threads` above one, the
    /// matrix products are shared out (a query, whose wait someone sees); encoding many texts at once, one thread
    /// per text is faster.
    public func encode(_ text: String, limit: Int = maxTokens, threads: Int = 1) -> [Float] {
        encode(tokens: tokenizer.tokens(text, limit: min(max(limit, 2), Self.maxTokens)), threads: threads)
    }

    /// The vectors of `texts`, one text per thread on every core (blocking: call it off the cooperative pool).
    public func encode(all texts: [String], limit: Int = maxTokens) -> [[Float]] {
        let results = Mutex([[Float]](repeating: [], count: texts.count))
        DispatchQueue.concurrentPerform(iterations: texts.count) { index in
            let vector = encode(texts[index], limit: limit)
            results.withLock { $0[index] = vector }
        }
        return results.withLock { $0 }
    }

    /// y[n × outputs] = x[n × inputs] · W + bias, its columns' panels shared out among `threads`.
    static func apply(_ layer: Linear, to x: [Float], rows n: Int, into y: inout [Float], threads: Int) {
        let (k, m) = (layer.inputs, layer.outputs)
        precondition(x.count >= n * k && y.count >= n * m, "the encoder's buffers are sized by its shape")
        let panels = ek_panels(m)
        let parts = threads > 1 && panels >= 2 * threads ? threads : 1
        guard n > 0 else { return }
        x.withUnsafeBufferPointer { x in
            layer.bias.withUnsafeBufferPointer { bias in
                y.withUnsafeMutableBufferPointer { y in
                    let (x, bias, y) = (x.baseAddress!, bias.baseAddress!, y.baseAddress!)
                    switch layer.weights {
                    case .float32(let packed):
                        packed.withUnsafeBufferPointer { packed in
                            let operands = Operands(x: x, bias: bias, y: y, packed: packed.baseAddress!)
                            Self.run(parts) { part in
                                ek_linear_panels(
                                    operands.x, n, k, operands.packed, m, operands.bias, operands.y,
                                    panels * part / parts, panels * (part + 1) / parts)
                            }
                        }
                    case .int8(let packed, let scales, let sums):
                        // The rows as bytes once; the threads share them.
                        var bytes = [UInt8](repeating: 0, count: n * ek_q8_row_bytes(k))
                        var rowScales = [Float](repeating: 0, count: n)
                        ek_quantize_rows(x, n, k, &bytes, &rowScales)
                        bytes.withUnsafeBufferPointer { bytes in
                            rowScales.withUnsafeBufferPointer { rowScales in
                                packed.withUnsafeBufferPointer { packed in
                                    scales.withUnsafeBufferPointer { scales in
                                        sums.withUnsafeBufferPointer { sums in
                                            let operands = Q8Operands(
                                                bytes: bytes.baseAddress!, rowScales: rowScales.baseAddress!,
                                                packed: packed.baseAddress!, scales: scales.baseAddress!,
                                                sums: sums.baseAddress!, bias: bias, y: y)
                                            Self.run(parts) { part in
                                                ek_linear_q8_panels(
                                                    operands.bytes, operands.rowScales, n, k, operands.packed,
                                                    operands.scales, operands.sums, m, operands.bias, operands.y,
                                                    panels * part / parts, panels * (part + 1) / parts)
                                            }
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
    }

    /// `work` for parts 0..<parts, on as many threads (one part: on this one).
    private static func run(_ parts: Int, _ work: @Sendable (Int) -> Void) {
        if parts == 1 { work(0) } else { DispatchQueue.concurrentPerform(iterations: parts, execute: work) }
    }

    func encode(tokens: [Int32], threads: Int = 1) -> [Float] {
        let n = tokens.count
        let width = shape.width
        let wide = shape.intermediate
        var x = [Float](repeating: 0, count: n * width)
        for (position, token) in tokens.enumerated() {
            let word = Int(token) * width
            let place = position * width
            for column in 0..<width {
                x[place + column] =
                    wordEmbeddings[word + column] + positionEmbeddings[place + column] + typeEmbedding[column]
            }
        }
        var qkv = [Float](repeating: 0, count: n * 3 * width)
        var context = [Float](repeating: 0, count: n * width)
        var projected = [Float](repeating: 0, count: n * width)
        var hidden = [Float](repeating: 0, count: n * wide)
        var scratch = [Float](repeating: 0, count: ek_attention_scratch(n, width / shape.heads))
        ek_add_layer_norm(&x, nil, n, width, embeddingNormGain, embeddingNormBias)
        for layer in layers {
            Self.apply(layer.qkv, to: x, rows: n, into: &qkv, threads: threads)
            ek_attention(qkv, n, shape.heads, width / shape.heads, &scratch, &context)
            Self.apply(layer.output, to: context, rows: n, into: &projected, threads: threads)
            ek_add_layer_norm(&projected, x, n, width, layer.attentionNormGain, layer.attentionNormBias)
            Self.apply(layer.intermediate, to: projected, rows: n, into: &hidden, threads: threads)
            ek_gelu(&hidden, n * wide)
            Self.apply(layer.down, to: hidden, rows: n, into: &x, threads: threads)
            ek_add_layer_norm(&x, projected, n, width, layer.normGain, layer.normBias)
        }
        var mean = [Float](repeating: 0, count: width)
        for position in 0..<n {
            for column in 0..<width { mean[column] += x[position * width + column] }
        }
        let norm = mean.reduce(0) { $0 + $1 * $1 }.squareRoot()
        return norm > 0 ? mean.map { $0 / norm } : mean
    }
}

/// A matrix product's operands handed to the threads that share it: they read x, the weights and the bias, and
/// each writes its own columns of y (no two touch the same float), while the caller waits.
private struct Operands: @unchecked Sendable {
    let x: UnsafePointer<Float>
    let bias: UnsafePointer<Float>
    let y: UnsafeMutablePointer<Float>
    let packed: UnsafePointer<Float>
}

/// The same for an 8-bit product: the rows as bytes with their scales, the weights' bytes, scales and sums.
private struct Q8Operands: @unchecked Sendable {
    let bytes: UnsafePointer<UInt8>
    let rowScales: UnsafePointer<Float>
    let packed: UnsafePointer<Int8>
    let scales: UnsafePointer<Float>
    let sums: UnsafePointer<Int32>
    let bias: UnsafePointer<Float>
    let y: UnsafeMutablePointer<Float>
}

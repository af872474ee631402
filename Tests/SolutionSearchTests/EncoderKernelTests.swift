import CEncoderKernels
import Foundation
import TestSupport
import Testing

/// The encoder's matrix product against the plain definition, for shapes the model never has too (rows not a
/// multiple of six, columns not a multiple of sixteen), on the fast path and the portable one.
@Suite struct EncoderKernelTests {
    @Test(arguments: [(1, 1, 1), (5, 7, 3), (6, 16, 16), (7, 33, 17), (13, 40, 48), (64, 384, 40)])
    func linearMatchesTheDefinition(rows: Int, inner: Int, columns: Int) {
        var random = SeededRandom(seed: 12345)
        func next() -> Float { Float.random(in: -1...1, using: &random) }
        let x = (0..<rows * inner).map { _ in next() }
        let weight = (0..<inner * columns).map { _ in next() }
        let bias = (0..<columns).map { _ in next() }
        var expected = [Float](repeating: 0, count: rows * columns)
        for i in 0..<rows {
            for j in 0..<columns {
                var sum = bias[j]
                for p in 0..<inner { sum += x[i * inner + p] * weight[p * columns + j] }
                expected[i * columns + j] = sum
            }
        }
        var packed = [Float](repeating: .nan, count: ek_packed_count(inner, columns))
        ek_pack(weight, inner, columns, &packed)
        #expect(packed.allSatisfy { !$0.isNaN })
        // A guard after the output: the kernel writes no further than rows × columns.
        var fast = [Float](repeating: 0, count: rows * columns + 1)
        fast[rows * columns] = 42
        ek_linear(x, rows, inner, packed, columns, bias, &fast)
        var plain = [Float](repeating: 0, count: rows * columns)
        ek_linear_plain(x, rows, inner, packed, columns, bias, &plain)
        #expect(fast[rows * columns] == 42)
        #expect(zip(fast, expected).allSatisfy { abs($0 - $1) < 1e-3 })
        #expect(zip(plain, expected).allSatisfy { abs($0 - $1) < 1e-3 })
    }

    /// 8-bit products: the weights' columns and the inputs' rows as bytes with a scale each (largest magnitude /
    /// 127), the product the one of the numbers the bytes stand for, the fast path (AVX-512 VNNI, where the
    /// processor has it) equal to the portable loops.
    @Test(arguments: [(1, 1, 1), (5, 7, 3), (8, 16, 16), (9, 33, 17), (13, 40, 48), (64, 384, 40), (3, 1536, 20)])
    func eightBitLinearMatchesTheDefinition(rows: Int, inner: Int, columns: Int) {
        var random = SeededRandom(seed: 777)
        func next() -> Float { Float.random(in: -1...1, using: &random) }
        var x = (0..<rows * inner).map { _ in next() }
        var weight = (0..<inner * columns).map { _ in next() }
        // A column and a row of zeros (their scales must stay finite), a large weight and a large input.
        if columns > 2 {
            for p in 0..<inner { weight[p * columns + 1] = 0 }
            weight[columns - 1] = 50
        }
        if rows > 2 {
            for p in 0..<inner { x[inner + p] = 0 }
            x[2 * inner] = -80
        }
        let bias = (0..<columns).map { _ in next() }
        var packed = [Int8](repeating: 0, count: ek_q8_packed_count(inner, columns))
        var scales = [Float](repeating: .nan, count: columns)
        var sums = [Int32](repeating: 0, count: columns)
        ek_pack_q8(weight, inner, columns, &packed, &scales, &sums)
        #expect(scales.allSatisfy { $0.isFinite && $0 > 0 })
        let stride = ek_q8_row_bytes(inner)
        var bytes = [UInt8](repeating: 0, count: rows * stride)
        var rowScales = [Float](repeating: .nan, count: rows)
        ek_quantize_rows(x, rows, inner, &bytes, &rowScales)
        #expect(rowScales.allSatisfy { $0.isFinite && $0 > 0 })
        // What each byte stands for: weights read back from the panels ([group][16 columns][4 bytes]).
        let groups = (inner + 3) / 4
        var expected = [Float](repeating: 0, count: rows * columns)
        for j in 0..<columns {
            let (panel, column) = j.quotientAndRemainder(dividingBy: 16)
            var sum: Int32 = 0
            let stands = (0..<inner).map { p -> Float in
                let byte = packed[((panel * groups + p / 4) * 16 + column) * 4 + p % 4]
                sum += Int32(byte)
                return Float(byte) * scales[j]
            }
            #expect(sum == sums[j])
            for p in 0..<inner { #expect(abs(stands[p] - weight[p * columns + j]) <= scales[j] / 2 + 1e-6) }
            for i in 0..<rows {
                var total = bias[j]
                for p in 0..<inner {
                    let input = Float(Int(bytes[i * stride + p]) - 128) * rowScales[i]
                    #expect(abs(input - x[i * inner + p]) <= rowScales[i] / 2 + 1e-6)
                    total += input * stands[p]
                }
                expected[i * columns + j] = total
            }
        }
        var fast = [Float](repeating: 0, count: rows * columns + 1)
        fast[rows * columns] = 42
        ek_linear_q8_panels(
            bytes, rowScales, rows, inner, packed, scales, sums, columns, bias, &fast, 0, ek_panels(columns))
        var plain = [Float](repeating: 0, count: rows * columns)
        ek_linear_q8_plain(bytes, rowScales, rows, inner, packed, scales, sums, columns, bias, &plain)
        #expect(fast[rows * columns] == 42)
        #expect(Array(fast.prefix(rows * columns)) == plain)
        #expect(zip(plain, expected).allSatisfy { abs($0 - $1) < 1e-3 * max(1, abs($1)) })
    }

    /// Self-attention against its definition (softmax of scaled dot products, values weighed by it), for odd
    /// lengths and head sizes; GELU against erf.
    @Test(arguments: [(1, 1, 1), (3, 2, 5), (15, 12, 32), (64, 12, 32), (7, 3, 17)])
    func attentionMatchesTheDefinition(length: Int, heads: Int, headSize: Int) {
        var random = SeededRandom(seed: 99)
        func next() -> Float { Float.random(in: -4...4, using: &random) }
        let d = heads * headSize
        let qkv = (0..<length * 3 * d).map { _ in next() }
        var expected = [Float](repeating: 0, count: length * d)
        for h in 0..<heads {
            for i in 0..<length {
                let scores = (0..<length).map { j -> Double in
                    var sum = 0.0
                    for t in 0..<headSize {
                        sum += Double(qkv[i * 3 * d + h * headSize + t]) * Double(qkv[j * 3 * d + d + h * headSize + t])
                    }
                    return sum / Double(headSize).squareRoot()
                }
                let top = scores.max()!
                let weights = scores.map { exp($0 - top) }
                let total = weights.reduce(0, +)
                for t in 0..<headSize {
                    var value = 0.0
                    for j in 0..<length {
                        value += weights[j] / total * Double(qkv[j * 3 * d + 2 * d + h * headSize + t])
                    }
                    expected[i * d + h * headSize + t] = Float(value)
                }
            }
        }
        let scratchSize = ek_attention_scratch(length, headSize)
        var scratch = [Float](repeating: .nan, count: scratchSize + 1)
        scratch[scratchSize] = 42
        var out = [Float](repeating: .nan, count: length * d + 1)
        out[length * d] = 42
        ek_attention(qkv, length, heads, headSize, &scratch, &out)
        #expect(scratch[scratchSize] == 42 && out[length * d] == 42)
        out.removeLast()
        #expect(zip(out, expected).allSatisfy { abs($0 - $1) < 1e-4 * max(1, abs($1)) })

        var values = (-400...400).map { Float($0) / 40 } + [-90, 90, 1e-30, -1e-30, 0]
        let reference = values.map { 0.5 * Double($0) * (1 + erf(Double($0) / 2.0.squareRoot())) }
        ek_gelu(&values, values.count)
        #expect(zip(values, reference).allSatisfy { abs(Double($0) - $1) < 1e-5 * max(1, abs($1)) })
    }

    /// LayerNorm(x + residual) against its definition, for widths that are and are not multiples of eight.
    @Test(arguments: [1, 7, 8, 29, 384])
    func layerNormMatchesTheDefinition(width: Int) {
        var random = SeededRandom(seed: 5)
        func next() -> Float { Float.random(in: -10...10, using: &random) }
        let rows = 3
        var x = (0..<rows * width).map { _ in next() }
        let residual = (0..<rows * width).map { _ in next() }
        let gain = (0..<width).map { _ in next() / 10 }
        let bias = (0..<width).map { _ in next() / 10 }
        var expected = [Float](repeating: 0, count: rows * width)
        for i in 0..<rows {
            let row = (0..<width).map { Double(x[i * width + $0]) + Double(residual[i * width + $0]) }
            let mean = row.reduce(0, +) / Double(width)
            let variance = row.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Double(width)
            for t in 0..<width {
                expected[i * width + t] = Float(
                    (row[t] - mean) / (variance + 1e-12).squareRoot() * Double(gain[t]) + Double(bias[t]))
            }
        }
        ek_add_layer_norm(&x, residual, rows, width, gain, bias)
        #expect(
            zip(x, expected).allSatisfy { abs($0 - $1) < 1e-4 * max(1, abs($1)) },
            "\(x.prefix(4)) \(expected.prefix(4))")
    }
}

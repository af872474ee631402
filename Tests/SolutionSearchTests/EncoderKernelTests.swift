import CEncoderKernels
import Testing

/// The encoder's matrix product against the plain definition, for shapes the model never has too (rows not a
/// multiple of six, columns not a multiple of sixteen), on the fast path and the portable one.
@Suite struct EncoderKernelTests {
    @Test(arguments: [(1, 1, 1), (5, 7, 3), (6, 16, 16), (7, 33, 17), (13, 40, 48), (64, 384, 40)])
    func linearMatchesTheDefinition(rows: Int, inner: Int, columns: Int) {
        var seed: UInt32 = 12345
        func next() -> Float {
            seed = seed &* 1_103_515_245 &+ 12345
            return Float(Int(seed >> 16) % 2001 - 1000) / 1000
        }
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
}

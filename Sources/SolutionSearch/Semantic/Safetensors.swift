import Foundation

/// Reads float32 tensors from a `.safetensors` file: an 8-byte little-endian header length, a JSON header
/// (name → dtype, shape, byte offsets into the data that follows), then the data.
struct Safetensors {
    struct Entry {
        let shape: [Int]
        let range: Range<Int>
    }

    let data: Data
    let entries: [String: Entry]
    let dataStart: Int

    init(contentsOf url: URL) throws {
        let data = try Data(contentsOf: url, options: .alwaysMapped)
        guard data.count >= 8 else { throw SemanticModelError("\(url.lastPathComponent) is too short") }
        let headerLength = data.prefix(8).reversed().reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
        guard headerLength <= UInt64(min(data.count - 8, 100_000_000)) else {
            throw SemanticModelError("\(url.lastPathComponent) has a header longer than the file")
        }
        let start = 8 + Int(headerLength)
        guard
            let header = try? JSONSerialization.jsonObject(with: data.subdata(in: 8..<start)) as? [String: Any]
        else { throw SemanticModelError("\(url.lastPathComponent) has no JSON header") }
        var entries: [String: Entry] = [:]
        for (name, value) in header where name != "__metadata__" {
            guard let object = value as? [String: Any], let shape = object["shape"] as? [Int],
                let offsets = object["data_offsets"] as? [Int], offsets.count == 2, offsets[0] >= 0,
                offsets[0] <= offsets[1], offsets[1] <= data.count - start
            else { throw SemanticModelError("\(url.lastPathComponent): tensor \(name) is malformed") }
            guard object["dtype"] as? String == "F32" else { continue }
            entries[name] = Entry(shape: shape, range: offsets[0]..<offsets[1])
        }
        self.data = data
        self.entries = entries
        self.dataStart = start
    }

    /// The tensor `name`, which must have `shape`, as floats in row-major order.
    func floats(_ name: String, shape: [Int]) throws -> [Float] {
        guard let entry = entries[name] else { throw SemanticModelError("the model has no float tensor \(name)") }
        guard entry.shape == shape, entry.range.count == shape.reduce(4, *) else {
            throw SemanticModelError("tensor \(name) has shape \(entry.shape), expected \(shape)")
        }
        var values = [Float](repeating: 0, count: entry.range.count / 4)
        values.withUnsafeMutableBytes { target in
            data.withUnsafeBytes { source in
                let bytes = UnsafeRawBufferPointer(rebasing: source[(dataStart + entry.range.lowerBound)...])
                target.copyMemory(from: UnsafeRawBufferPointer(rebasing: bytes.prefix(entry.range.count)))
            }
        }
        // The format is little-endian, as every machine this runs on.
        return values
    }
}

public struct SemanticModelError: Error, CustomStringConvertible {
    public let description: String
    init(_ description: String) { self.description = description }
}

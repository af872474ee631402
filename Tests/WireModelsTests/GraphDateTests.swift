import Foundation
import Testing

@testable import WireModels

/// Graph's times: milliseconds and `Z` out, 0–7 fractional digits and offsets in.
@Suite struct GraphDateTests {
    @Test func writesMillisecondsInUTC() {
        #expect(GraphDate.string(Date(timeIntervalSince1970: 0)) == "1970-01-01T00:00:00.000Z")
        #expect(GraphDate.string(Date(timeIntervalSince1970: 1_795_084_800.123)) == "2026-11-19T10:40:00.123Z")
        #expect(GraphDate.string(Date(timeIntervalSince1970: 1_795_084_800.9996)) == "2026-11-19T10:40:01.000Z")
        #expect(GraphDate.string(Date(timeIntervalSince1970: -0.5)) == "1969-12-31T23:59:59.500Z")
        #expect(GraphDate.string(Date(timeIntervalSince1970: .infinity)) == "0001-01-01T00:00:00.000Z")
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        for seconds in stride(from: -2_000_000_000.0, to: 4_000_000_000.0, by: 86_399.987) {
            let date = Date(timeIntervalSince1970: (seconds * 1000).rounded() / 1000)
            #expect(GraphDate.string(date) == formatter.string(from: date), "\(seconds)")
        }
    }

    @Test func readsGraphsVariants() {
        let expected = Date(timeIntervalSince1970: 1_795_084_800.123)
        for text in [
            "2026-11-19T10:40:00.123Z", "2026-11-19T10:40:00.1234567Z", "2026-11-19T11:40:00.123+01:00",
            "2026-11-19T10:40:00.123",
        ] {
            let parsed = GraphDate.parse(text)
            #expect(parsed.map { abs($0.timeIntervalSince(expected)) < 0.001 } == true, "\(text)")
        }
        #expect(GraphDate.parse("2026-11-19T10:40:00Z") == Date(timeIntervalSince1970: 1_795_084_800))
        for text in ["", "yesterday", "2026-13-01T00:00:00Z", String(repeating: "9", count: 100)] {
            #expect(GraphDate.parse(text) == nil, "\(text)")
        }
    }
}

import Foundation

/// Whole numbers that arrive from outside (query parameters, form fields, JSON values, stored settings an
/// admin typed). Every such number is checked against a range here before any arithmetic touches it, so
/// `+` and `*` on it can never trap: one trapping request would end every service of the process.
package enum InputNumber {
    /// The number `text` spells when it lies in `range`; nil for anything else (not a number, too large,
    /// out of range). A leading `+` and surrounding blanks are refused.
    package static func parse(_ text: some StringProtocol, in range: ClosedRange<Int>) -> Int? {
        guard text.utf8.count <= 20, text.first != "+", let value = Int(text), range.contains(value) else { return nil }
        return value
    }

    /// `value` moved into `range`.
    package static func clamp(_ value: Int, to range: ClosedRange<Int>) -> Int {
        min(max(value, range.lowerBound), range.upperBound)
    }

    /// `a + b`, or `Int.max` / `Int.min` where the sum would overflow.
    package static func saturatingSum(_ a: Int, _ b: Int) -> Int {
        let (sum, overflow) = a.addingReportingOverflow(b)
        guard overflow else { return sum }
        return b > 0 ? .max : .min
    }

    /// `a * b`, or `Int.max` / `Int.min` where the product would overflow.
    package static func saturatingProduct(_ a: Int, _ b: Int) -> Int {
        let (product, overflow) = a.multipliedReportingOverflow(by: b)
        guard overflow else { return product }
        return (a < 0) == (b < 0) ? .max : .min
    }
}

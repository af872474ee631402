import Foundation
import Vapor

/// A generic record form (`record.leaf`): the admin screens describe their fields and extra actions here.
struct RecordForm: Encodable, Sendable {
    struct Field: Encodable, Sendable {
        struct Option: Encodable, Sendable {
            let value: String
            let label: String
            let selected: Bool
        }

        /// `text`, `email`, `url`, `number`, `password`, `textarea`, `select`, `checkbox`, `checkboxes`,
        /// `readonly`, `hidden`.
        let kind: String
        let name: String
        let label: String
        let value: String
        let options: [Option]
        let help: String?
        let required: Bool

        static func text(
            _ name: String, _ label: String, _ value: String?, kind: String = "text", help: String? = nil,
            required: Bool = false
        ) -> Field {
            Field(kind: kind, name: name, label: label, value: value ?? "", options: [], help: help, required: required)
        }

        static func select(
            _ name: String, _ label: String, _ value: String?, _ options: [(String, String)], help: String? = nil
        ) -> Field {
            Field(
                kind: "select", name: name, label: label, value: value ?? "",
                options: options.map { Option(value: $0.0, label: $0.1, selected: $0.0 == (value ?? "")) }, help: help,
                required: false)
        }

        static func checkbox(_ name: String, _ label: String, _ checked: Bool, help: String? = nil) -> Field {
            Field(
                kind: "checkbox", name: name, label: label, value: checked ? "true" : "false", options: [], help: help,
                required: false)
        }

        /// A group of checkboxes all named `name`, one per option.
        static func checkboxes(_ name: String, _ label: String, _ options: [(String, String, Bool)]) -> Field {
            Field(
                kind: "checkboxes", name: name, label: label, value: "",
                options: options.map { Option(value: $0.0, label: $0.1, selected: $0.2) }, help: nil, required: false)
        }

        /// A value the form sends back unchanged (the entity's kind).
        static func hidden(_ name: String, _ value: String) -> Field {
            Field(kind: "hidden", name: name, label: "", value: value, options: [], help: nil, required: false)
        }

        static func readonly(_ label: String, _ value: String?, help: String? = nil) -> Field {
            Field(
                kind: "readonly", name: "", label: label, value: value ?? "", options: [], help: help, required: false)
        }
    }

    /// A button posting to `action` with the record's sys_id and `sysparm_action` = `value`.
    struct Action: Encodable, Sendable {
        let value: String
        let title: String
        let id: String
    }

    let heading: String
    let action: String
    let sysId: String
    let fields: [Field]
    let buttons: [Action]
    let secondaryButtons: [Action]
    let backHref: String
    let error: String?
    /// Shown once, e.g. a generated client secret.
    let secret: String?
    let secretLabel: String?
    /// Facts shown under the form (related records, last results).
    let facts: [Fact]

    struct Fact: Encodable, Sendable {
        let label: String
        let value: String
        let href: String?
    }
}

/// The form fields of a post with several values under one name (checkbox groups), which the single-value
/// parser keeps only once.
enum MultiValueForm {
    static func values(_ name: String, in body: ByteBuffer?) -> [String] {
        guard let body, let text = body.getString(at: body.readerIndex, length: body.readableBytes) else { return [] }
        return text.split(separator: "&").compactMap { pair in
            let parts = pair.split(separator: "=", maxSplits: 1).map {
                String($0).replacingOccurrences(of: "+", with: " ").removingPercentEncoding ?? ""
            }
            return parts.first == name ? (parts.count > 1 ? parts[1] : "") : nil
        }
    }
}

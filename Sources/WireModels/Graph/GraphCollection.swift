import Foundation

/// An OData collection page as Graph returns it: `@odata.context`, `value` and an absolute `@odata.nextLink`.
package struct GraphCollection<Element: Codable & Sendable & Equatable>: Codable, Sendable, Equatable {
    package var context: String?
    package var nextLink: String?
    package var value: [Element]

    package init(context: String? = nil, nextLink: String? = nil, value: [Element]) {
        self.context = context
        self.nextLink = nextLink
        self.value = value
    }

    enum CodingKeys: String, CodingKey {
        case context = "@odata.context"
        case nextLink = "@odata.nextLink"
        case value
    }
}

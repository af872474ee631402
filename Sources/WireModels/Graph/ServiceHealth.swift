import Foundation

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Graph's `keyValuePair`.
package struct GraphKeyValuePair: Codable, Sendable, Equatable, Hashable {
    package var name: String
    package var value: String?

    package init(name: String, value: String?) {
        self.name = name
        self.value = value
    }
}

/// Graph's `itemBody`: `contentType` is `html` or `text`.
package struct GraphItemBody: Codable, Sendable, Equatable, Hashable {
    package var contentType: String?
    package var content: String?

    package init(contentType: String?, content: String?) {
        self.contentType = contentType
        self.content = content
    }
}

/// One entry of a service health issue's history (`serviceHealthIssuePost`).
package struct ServiceHealthIssuePost: Codable, Sendable, Equatable, Hashable {
    package var createdDateTime: Date
    /// `regular`, `quick`, `strategic`, or a value newer than this code (kept as sent).
    package var postType: String?
    package var description: GraphItemBody?

    package init(createdDateTime: Date, postType: String?, description: GraphItemBody?) {
        self.createdDateTime = createdDateTime
        self.postType = postType
        self.description = description
    }
}

/// Graph's `serviceHealthIssue`. Enumerations are strings: Graph's own documents mix `serviceRestored` and
/// `ServiceRestored`, and a newer member than this code knows must survive a round trip; ``GraphEnum`` reads
/// them case-insensitively.
package struct ServiceHealthIssue: Codable, Sendable, Equatable {
    package var id: String
    package var title: String
    package var startDateTime: Date?
    package var endDateTime: Date?
    package var lastModifiedDateTime: Date?
    package var impactDescription: String?
    package var classification: String?
    package var origin: String?
    package var status: String?
    package var service: String?
    package var feature: String?
    package var featureGroup: String?
    package var isResolved: Bool?
    package var details: [GraphKeyValuePair]?
    package var posts: [ServiceHealthIssuePost]?

    package init(
        id: String, title: String, startDateTime: Date? = nil, endDateTime: Date? = nil,
        lastModifiedDateTime: Date? = nil, impactDescription: String? = nil, classification: String? = nil,
        origin: String? = nil, status: String? = nil, service: String? = nil, feature: String? = nil,
        featureGroup: String? = nil, isResolved: Bool? = nil, details: [GraphKeyValuePair]? = nil,
        posts: [ServiceHealthIssuePost]? = nil
    ) {
        self.id = id
        self.title = title
        self.startDateTime = startDateTime
        self.endDateTime = endDateTime
        self.lastModifiedDateTime = lastModifiedDateTime
        self.impactDescription = impactDescription
        self.classification = classification
        self.origin = origin
        self.status = status
        self.service = service
        self.feature = feature
        self.featureGroup = featureGroup
        self.isResolved = isResolved
        self.details = details
        self.posts = posts
    }
}

/// Graph's `serviceHealth`: one service of `healthOverviews`, with its issues only under `$expand=issues`.
package struct ServiceHealthOverview: Codable, Sendable, Equatable {
    package var id: String
    package var service: String
    package var status: String
    package var issues: [ServiceHealthIssue]?

    package init(id: String, service: String, status: String, issues: [ServiceHealthIssue]? = nil) {
        self.id = id
        self.service = service
        self.status = status
        self.issues = issues
    }
}

/// The members of Graph's service health enumerations, and how to read a value whatever its casing.
package enum GraphEnum {
    package static let classification = ["advisory", "incident", "unknownFutureValue"]
    package static let origin = ["microsoft", "thirdParty", "customer", "unknownFutureValue"]
    package static let postType = ["regular", "quick", "strategic", "unknownFutureValue"]
    package static let status = [
        "serviceOperational", "investigating", "restoringService", "verifyingService", "serviceRestored",
        "postIncidentReviewPublished", "serviceDegradation", "serviceInterruption", "extendedRecovery",
        "falsePositive", "investigationSuspended", "resolved", "mitigatedExternal", "mitigated", "resolvedExternal",
        "confirmed", "reported", "unknownFutureValue",
    ]
    /// Statuses that mean the issue is over.
    package static let closedStatuses: Set<String> = [
        "serviceRestored", "postIncidentReviewPublished", "falsePositive", "resolved", "resolvedExternal",
    ]

    /// The documented member `value` names in any casing, or `value` itself when it is newer than this list.
    package static func normalized(_ value: String, in members: [String]) -> String {
        members.first { $0.caseInsensitiveCompare(value) == .orderedSame } ?? value
    }
}

/// Graph's timestamps: written with milliseconds and `Z`, read with 0–7 fractional digits and `Z` or an offset.
package enum GraphDate {
    package static func string(_ date: Date) -> String {
        // Rounded to the nearest millisecond (0.123 is stored as 0.12299…), and written by hand: this runs for
        // every time of every issue in every answer, where a formatter costs more than the rest of the work.
        let total = (date.timeIntervalSince1970 * 1000).rounded()
        guard total.isFinite, abs(total) < 2.5e14 else { return "0001-01-01T00:00:00.000Z" }
        let millis = Int64(total)
        var seconds = time_t(millis >= 0 ? millis / 1000 : (millis - 999) / 1000)
        let fraction = Int(millis - Int64(seconds) * 1000)
        var parts = tm()
        guard gmtime_r(&seconds, &parts) != nil else { return "0001-01-01T00:00:00.000Z" }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(24)
        func digits(_ value: Int, _ count: Int) {
            var text = Array(String(max(value, 0)).utf8)
            while text.count < count { text.insert(UInt8(ascii: "0"), at: 0) }
            bytes.append(contentsOf: text)
        }
        digits(Int(parts.tm_year) + 1900, 4)
        bytes.append(UInt8(ascii: "-"))
        digits(Int(parts.tm_mon) + 1, 2)
        bytes.append(UInt8(ascii: "-"))
        digits(Int(parts.tm_mday), 2)
        bytes.append(UInt8(ascii: "T"))
        digits(Int(parts.tm_hour), 2)
        bytes.append(UInt8(ascii: ":"))
        digits(Int(parts.tm_min), 2)
        bytes.append(UInt8(ascii: ":"))
        digits(Int(parts.tm_sec), 2)
        bytes.append(UInt8(ascii: "."))
        digits(fraction, 3)
        bytes.append(UInt8(ascii: "Z"))
        return String(decoding: bytes, as: UTF8.self)
    }

    package static func parse(_ text: String) -> Date? {
        guard text.utf8.count <= 40 else { return nil }
        // Fractions beyond milliseconds are cut to three digits: the parser takes exactly 0 or 3.
        var normalized = text
        if let dot = text.firstIndex(of: ".") {
            let digits = text[text.index(after: dot)...].prefix { $0.isNumber }
            let rest = text[text.index(after: dot)...].dropFirst(digits.count)
            let millis = String((digits + "000").prefix(3))
            normalized = String(text[..<dot]) + "." + millis + rest
        }
        if !normalized.contains("Z") && !normalized.dropFirst(19).contains("+")
            && !normalized.dropFirst(19).contains("-")
        {
            normalized += "Z"
        }
        let withFraction = Date.ISO8601FormatStyle(includingFractionalSeconds: true)
        let plain = Date.ISO8601FormatStyle()
        return (try? withFraction.parse(normalized)) ?? (try? plain.parse(normalized))
    }

    package static let decoder: JSONDecoder = {
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .custom { decoder in
            let container = try decoder.singleValueContainer()
            let text = try container.decode(String.self)
            guard let date = parse(text) else {
                throw DecodingError.dataCorruptedError(
                    in: container, debugDescription: "'\(text.prefix(40))' is not an ISO 8601 date and time")
            }
            return date
        }
        return decoder
    }()

    package static let encoder: JSONEncoder = {
        let encoder = JSONEncoder()
        encoder.outputFormatting = .withoutEscapingSlashes
        encoder.dateEncodingStrategy = .custom { date, encoder in
            var container = encoder.singleValueContainer()
            try container.encode(string(date))
        }
        return encoder
    }()
}

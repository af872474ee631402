import Foundation

/// A Microsoft 365 support case ("service request") as the Connector's API shows it.
package struct ServiceRequest: Codable, Sendable, Equatable {
    /// `SR` and digits, unique per Connector.
    package var number: String
    package var tenantId: String
    package var repositoryId: String
    package var ticketNumber: String
    package var ticketUrl: String?
    package var title: String
    package var description: String
    package var severity: String
    package var status: String
    package var contact: Contact
    /// Marked so that support does not call: the desk is a test environment.
    package var testEnvironment: Bool
    package var createdAt: Date
    package var updatedAt: Date
    /// The thread, oldest first (absent in lists).
    package var updates: [Update]?

    package init(
        number: String, tenantId: String, repositoryId: String, ticketNumber: String, ticketUrl: String?,
        title: String, description: String, severity: String, status: String, contact: Contact,
        testEnvironment: Bool, createdAt: Date, updatedAt: Date, updates: [Update]?
    ) {
        self.number = number
        self.tenantId = tenantId
        self.repositoryId = repositoryId
        self.ticketNumber = ticketNumber
        self.ticketUrl = ticketUrl
        self.title = title
        self.description = description
        self.severity = severity
        self.status = status
        self.contact = contact
        self.testEnvironment = testEnvironment
        self.createdAt = createdAt
        self.updatedAt = updatedAt
        self.updates = updates
    }

    /// Who Microsoft support talks to: a Microsoft 365 administrator of the tenant.
    package struct Contact: Codable, Sendable, Equatable {
        package var email: String
        package var name: String?
        package var phone: String?

        package init(email: String, name: String? = nil, phone: String? = nil) {
            self.email = email
            self.name = name
            self.phone = phone
        }
    }

    /// One entry of the thread.
    package struct Update: Codable, Sendable, Equatable {
        /// Stable per update: the ID of the event that delivers it to the desk.
        package var id: String
        /// The update's place in its case's thread, from 1.
        package var sequence: Int
        /// `support` (an engineer), `customer` (the desk) or `system` (a status change).
        package var from: String
        package var author: String
        package var text: String
        /// The status this update set, if it changed it.
        package var status: String?
        package var createdAt: Date

        package init(
            id: String, sequence: Int, from: String, author: String, text: String, status: String?, createdAt: Date
        ) {
            self.id = id
            self.sequence = sequence
            self.from = from
            self.author = author
            self.text = text
            self.status = status
            self.createdAt = createdAt
        }
    }

    /// Microsoft's severities: A (critical impact), B (moderate), C (minimal).
    package static let severities = ["A", "B", "C"]
    package static let statuses = ["new", "inProgress", "waitingOnCustomer", "resolved", "closed"]
}

/// What the desk sends to open a case. A retry with the same `idempotencyKey` answers with the case the first
/// request created.
package struct ServiceRequestInput: Codable, Sendable {
    package var repositoryId: String
    package var ticketNumber: String
    package var ticketUrl: String?
    package var title: String
    package var description: String
    package var severity: String
    package var contact: ServiceRequest.Contact
    package var testEnvironment: Bool?
    package var idempotencyKey: String

    package init(
        repositoryId: String, ticketNumber: String, ticketUrl: String? = nil, title: String, description: String,
        severity: String, contact: ServiceRequest.Contact, testEnvironment: Bool? = nil, idempotencyKey: String
    ) {
        self.repositoryId = repositoryId
        self.ticketNumber = ticketNumber
        self.ticketUrl = ticketUrl
        self.title = title
        self.description = description
        self.severity = severity
        self.contact = contact
        self.testEnvironment = testEnvironment
        self.idempotencyKey = idempotencyKey
    }

    package static let maxTitle = 255
    package static let maxDescription = 32_000
}

/// A reply to a case's thread (from the desk: the customer; from the console: an engineer).
package struct ServiceRequestReply: Codable, Sendable {
    package var text: String
    package var author: String?

    package init(text: String, author: String? = nil) {
        self.text = text
        self.author = author
    }

    package static let maxText = 32_000
}

/// `POST /api/v1/administratorCheck`: may this e-mail be a case's contact?
package struct AdministratorCheckRequest: Codable, Sendable {
    package var email: String

    package init(email: String) { self.email = email }
}

package struct AdministratorCheckResult: Codable, Sendable, Equatable {
    package var email: String
    package var isAdministrator: Bool
    /// The admin directory roles the user holds (display names).
    package var roles: [String]

    package init(email: String, isAdministrator: Bool, roles: [String]) {
        self.email = email
        self.isAdministrator = isAdministrator
        self.roles = roles
    }
}

/// What the Connector delivers to a desk's repository endpoint when a case changes: each event once per ID (the
/// receiver applies it exactly once), in order per case (`update.sequence`).
package struct ServiceRequestEvent: Codable, Sendable, Equatable {
    package var eventId: String
    /// `serviceRequest.updated`.
    package var type: String
    package var occurredAt: Date
    package var tenantId: String
    package var repositoryId: String
    package var serviceRequest: Summary
    package var update: ServiceRequest.Update

    package init(
        eventId: String, type: String, occurredAt: Date, tenantId: String, repositoryId: String,
        serviceRequest: Summary, update: ServiceRequest.Update
    ) {
        self.eventId = eventId
        self.type = type
        self.occurredAt = occurredAt
        self.tenantId = tenantId
        self.repositoryId = repositoryId
        self.serviceRequest = serviceRequest
        self.update = update
    }

    package struct Summary: Codable, Sendable, Equatable {
        package var number: String
        package var ticketNumber: String
        package var status: String
        package var severity: String

        package init(number: String, ticketNumber: String, status: String, severity: String) {
            self.number = number
            self.ticketNumber = ticketNumber
            self.status = status
            self.severity = severity
        }
    }

    package static let updatedType = "serviceRequest.updated"
}

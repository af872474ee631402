import Foundation

/// The default property set of Graph's `user` resource.
package struct GraphUser: Codable, Sendable, Equatable {
    package var context: String?
    package var id: String
    package var userPrincipalName: String
    package var displayName: String
    package var mail: String?
    package var accountEnabled: Bool
    package var givenName: String?
    package var surname: String?
    package var jobTitle: String?
    package var businessPhones: [String]

    package init(
        context: String? = nil, id: String, userPrincipalName: String, displayName: String, mail: String?,
        accountEnabled: Bool
    ) {
        self.context = context
        self.id = id
        self.userPrincipalName = userPrincipalName
        self.displayName = displayName
        self.mail = mail
        self.accountEnabled = accountEnabled
        self.givenName = nil
        self.surname = nil
        self.jobTitle = nil
        self.businessPhones = []
    }

    enum CodingKeys: String, CodingKey {
        case context = "@odata.context"
        case id, userPrincipalName, displayName, mail, accountEnabled, givenName, surname, jobTitle, businessPhones
    }
}

/// A `#microsoft.graph.directoryRole` entry of `/users/{id}/memberOf`.
package struct GraphDirectoryRole: Codable, Sendable, Equatable {
    package var odataType: String
    package var id: String
    package var displayName: String
    package var description: String
    package var roleTemplateId: String

    package init(id: String, displayName: String, description: String, roleTemplateId: String) {
        self.odataType = "#microsoft.graph.directoryRole"
        self.id = id
        self.displayName = displayName
        self.description = description
        self.roleTemplateId = roleTemplateId
    }

    enum CodingKeys: String, CodingKey {
        case odataType = "@odata.type"
        case id, displayName, description, roleTemplateId
    }
}

import Foundation

/// Built-in Entra directory roles the system knows, with Entra's real role template IDs.
package struct DirectoryRoleTemplate: Sendable, Equatable, Hashable, Codable {
    package var templateId: String
    package var displayName: String
    package var description: String

    package static let globalAdministrator = DirectoryRoleTemplate(
        templateId: "62e90394-69f5-4237-9190-012177145e10", displayName: "Global Administrator",
        description:
            "Can manage all aspects of Microsoft Entra ID and Microsoft services that use Microsoft Entra identities.")
    package static let serviceSupportAdministrator = DirectoryRoleTemplate(
        templateId: "f023fd81-a637-4b56-95fd-791ac0226033", displayName: "Service Support Administrator",
        description: "Can read service health information and manage support tickets.")
    package static let helpdeskAdministrator = DirectoryRoleTemplate(
        templateId: "729827e3-9c14-49f7-bb1b-9608f156bbb8", displayName: "Helpdesk Administrator",
        description: "Can reset passwords for non-administrators and Helpdesk Administrators.")
    package static let globalReader = DirectoryRoleTemplate(
        templateId: "f2ef992c-3afb-46b9-b7cf-a126ee74c451", displayName: "Global Reader",
        description: "Can read everything that a Global Administrator can, but not update anything.")

    package static let all: [DirectoryRoleTemplate] = [
        .globalAdministrator, .serviceSupportAdministrator, .helpdeskAdministrator, .globalReader,
    ]

    /// Finds a role by template ID or display name (case- and space-insensitive, so `global-administrator` works too).
    package static func find(_ name: String) -> DirectoryRoleTemplate? {
        let wanted = normalized(name)
        return all.first { $0.templateId == name.lowercased() || normalized($0.displayName) == wanted }
    }

    private static func normalized(_ text: String) -> String {
        text.lowercased().filter { $0.isLetter || $0.isNumber }
    }
}

import Fluent
import Foundation
import WireModels

/// An app registration and its service principal in one tenant (apps here are single-tenant).
final class AppRegistration: Model, @unchecked Sendable {
    static let schema = "identity_app_registrations"

    /// The application object ID.
    @ID(custom: .id, generatedBy: .user) var id: UUID?
    @Parent(key: "tenant_id") var tenant: Tenant
    /// Application (client) ID, lowercase GUID; unique within the tenant.
    @Field(key: "app_id") var appId: String
    /// Object ID of the app's service principal: `oid` and `sub` of its app-only tokens.
    @Field(key: "service_principal_id") var servicePrincipalId: UUID
    @Field(key: "display_name") var displayName: String
    @Field(key: "redirect_uris") var redirectURIs: [String]
    @Field(key: "identifier_uris") var identifierURIs: [String]
    /// Values of the app roles this app offers as a resource.
    @Field(key: "app_roles") var appRoles: [String]
    /// 1 or 2: the version of access tokens issued *for* this app, whatever endpoint is used.
    @Field(key: "access_token_version") var accessTokenVersion: Int
    /// When true, only clients granted one of the app's roles get tokens for it (AADSTS501051 otherwise).
    @Field(key: "app_role_assignment_required") var appRoleAssignmentRequired: Bool
    /// JSON of `[IdentityAdmin.ExposedScope]`: delegated permissions the app exposes as a resource.
    @OptionalField(key: "exposed_scopes") var exposedScopesJSON: String?
    /// JSON of `[IdentityAdmin.RequiredAccess]` with resources by appId: what the app requires.
    @OptionalField(key: "required_resource_access") var requiredResourceAccessJSON: String?
    @Children(for: \.$app) var secrets: [ClientSecret]
    @Timestamp(key: "created_at", on: .create) var createdAt: Date?

    init() {}

    init(
        id: UUID = UUID(), tenantID: UUID, appId: String = UUID().uuidString.lowercased(),
        servicePrincipalId: UUID = UUID(), displayName: String, redirectURIs: [String] = [],
        identifierURIs: [String]? = nil, appRoles: [String] = [], accessTokenVersion: Int = 1,
        appRoleAssignmentRequired: Bool = false
    ) {
        self.id = id
        self.$tenant.id = tenantID
        self.appId = appId.lowercased()
        self.servicePrincipalId = servicePrincipalId
        self.displayName = displayName
        self.redirectURIs = redirectURIs
        self.identifierURIs = identifierURIs ?? ["api://\(appId.lowercased())"]
        self.appRoles = appRoles
        self.accessTokenVersion = accessTokenVersion
        self.appRoleAssignmentRequired = appRoleAssignmentRequired
    }

    /// Delegated permissions the app exposes; Microsoft Graph's are built in.
    var exposedScopes: [IdentityAdmin.ExposedScope] {
        get {
            if appId == MicrosoftGraphResource.appId { return MicrosoftGraphResource.delegatedScopes }
            return Self.decode(exposedScopesJSON) ?? []
        }
        set { exposedScopesJSON = Self.encode(newValue) }
    }

    /// The exposed permission `value` names, matched case-insensitively as Entra does.
    func exposedScope(_ value: String) -> IdentityAdmin.ExposedScope? {
        exposedScopes.first { $0.value.caseInsensitiveCompare(value) == .orderedSame }
    }

    var requiredResourceAccess: [IdentityAdmin.RequiredAccess] {
        get { Self.decode(requiredResourceAccessJSON) ?? [] }
        set { requiredResourceAccessJSON = Self.encode(newValue) }
    }

    private static func decode<T: Decodable>(_ json: String?) -> T? {
        json.flatMap { try? JSONDecoder().decode(T.self, from: Data($0.utf8)) }
    }

    private static func encode<T: Encodable>(_ value: T) -> String? {
        (try? JSONEncoder().encode(value)).map { String(decoding: $0, as: UTF8.self) }
    }

    func isNamed(_ identifier: String) -> Bool {
        Self.identifier(identifier, names: appId, identifierURIs: identifierURIs)
    }

    /// Whether `identifier` names an app: its appId or one of its identifier URIs (a trailing `/` is ignored).
    static func identifier(_ identifier: String, names appId: String, identifierURIs: [String]) -> Bool {
        let wanted = identifier.lowercased().trimmingSuffix("/")
        return appId == wanted || identifierURIs.contains { $0.lowercased().trimmingSuffix("/") == wanted }
    }
}

extension String {
    func trimmingSuffix(_ suffix: String) -> String {
        hasSuffix(suffix) ? String(dropLast(suffix.count)) : self
    }
}

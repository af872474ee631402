import Fluent
import Foundation
import ServerSupport
import Vapor
import WireModels

/// A Graph-compatible read of the directory: `GET /v1.0/users/{id|upn}` and `…/memberOf`,
/// for app tokens holding `Directory.Read.All` (or a delegated token with that scope).
struct GraphController: RouteCollection {
    func boot(routes: any RoutesBuilder) throws {
        let base = routes.grouped("v1.0")
        base.get("users", ":user", use: user)
        base.get("users", ":user", "memberOf", use: memberOf)
    }

    func user(_ request: Request) async throws -> GraphUserResponse {
        var dto = try await authorizedUser(request).toGraph()
        dto.context = request.identity.issuer.url("/v1.0/$metadata#users/$entity")
        return GraphUserResponse(dto)
    }

    func memberOf(_ request: Request) async throws -> GraphRolesResponse {
        let user = try await authorizedUser(request)
        let assignments = try await user.$roleAssignments.query(on: request.db).all()
        let roles = assignments.compactMap { assignment -> GraphDirectoryRole? in
            guard let template = DirectoryRoleTemplate.all.first(where: { $0.templateId == assignment.roleTemplateId })
            else { return nil }
            return GraphDirectoryRole(
                id: Self.directoryRoleObjectId(tenant: user.$tenant.id, template: template.templateId),
                displayName: template.displayName, description: template.description,
                roleTemplateId: template.templateId)
        }
        return GraphRolesResponse(
            GraphCollection(context: request.identity.issuer.url("/v1.0/$metadata#directoryObjects"), value: roles))
    }

    /// The path's user in the token's tenant, once the token proves `Directory.Read.All`.
    private func authorizedUser(_ request: Request) async throws -> DirectoryUser {
        let claims = try await GraphAccessCheck(request: request).requireRole(
            MicrosoftGraphResource.Role.directoryReadAll)
        guard let tid = claims.tid.flatMap(UUID.init(uuidString:)) else { throw GraphError.invalidToken }
        let key = try request.parameters.require("user")
        let query = DirectoryUser.query(on: request.db).filter(\.$tenant.$id == tid)
        if let id = UUID(uuidString: key) {
            query.filter(\.$id == id)
        } else {
            query.filter(\.$userPrincipalName == key.lowercased())
        }
        guard let user = try await query.first() else { throw GraphError.notFound(key) }
        return user
    }

    /// A directory role object's ID is per tenant in Entra; derive a stable one from tenant and template.
    static func directoryRoleObjectId(tenant: UUID, template: String) -> String {
        let digest = SHA256.hash(data: Data("\(tenant.uuidString)|\(template)".utf8))
        var bytes = Array(digest.prefix(16))
        bytes[6] = (bytes[6] & 0x0F) | 0x50
        bytes[8] = (bytes[8] & 0x3F) | 0x80
        let uuid = UUID(
            uuid: (
                bytes[0], bytes[1], bytes[2], bytes[3], bytes[4], bytes[5], bytes[6], bytes[7], bytes[8], bytes[9],
                bytes[10], bytes[11], bytes[12], bytes[13], bytes[14], bytes[15]
            ))
        return uuid.uuidString.lowercased()
    }
}

struct GraphUserResponse: AsyncResponseEncodable {
    let user: GraphUser
    init(_ user: GraphUser) { self.user = user }
    func encodeResponse(for request: Request) async throws -> Response { try graphJSON(user) }
}

struct GraphRolesResponse: AsyncResponseEncodable {
    let roles: GraphCollection<GraphDirectoryRole>
    init(_ roles: GraphCollection<GraphDirectoryRole>) { self.roles = roles }
    func encodeResponse(for request: Request) async throws -> Response { try graphJSON(roles) }
}

private func graphJSON(_ body: some Encodable) throws -> Response {
    let response = Response(status: .ok)
    response.headers.replaceOrAdd(
        name: .contentType,
        value: "application/json;odata.metadata=minimal;odata.streaming=true;IEEE754Compatible=false;charset=utf-8")
    let encoder = JSONEncoder()
    encoder.outputFormatting = .withoutEscapingSlashes
    response.body = .init(data: try encoder.encode(body))
    return response
}

extension DirectoryUser {
    func toGraph() -> GraphUser {
        GraphUser(
            id: objectId, userPrincipalName: userPrincipalName, displayName: displayName, mail: mail,
            accountEnabled: accountEnabled)
    }
}

import Fluent
import Foundation
import ServerSupport
import Vapor
import WireModels

/// What follows a good sign-in at the authorize endpoint: the consent page when the requested permissions lack
/// consent (or `prompt=consent` / `prompt=admin_consent` asks for it), then the authorization code.
///
/// A user consents for themselves to permissions that do not need an administrator; a Global Administrator
/// may consent for the whole organization, which every permission that needs an administrator requires.
struct AuthorizeFlow {
    let request: Request
    let endpoint: EndpointVersion
    let tenant: TenantDirectory
    let app: TenantDirectory.App
    let parameters: AuthorizeParameters
    let scope: String
    let permissions: DelegatedConsent.Request
    let redirectURI: String
    let reply: AuthorizeReply

    /// How long the consent page may wait for an answer.
    static let ticketLifetime: TimeInterval = 600

    private var prompts: Set<String> {
        Set((parameters.prompt ?? "").split(separator: " ").map { $0.lowercased() })
    }

    private var consent: DelegatedConsent { DelegatedConsent(database: request.db) }

    /// The permissions to show on the consent page for this user, or none when consent is complete.
    private func missing(for userID: UUID) async throws -> [String] {
        let needed = DelegatedConsent.needed(permissions, client: app)
        if prompts.contains("consent") || prompts.contains("admin_consent") { return needed }
        let granted = try await consent.granted(client: app, resource: permissions.resource, userID: userID)
        return needed.filter { !granted.contains($0) }
    }

    func afterSignIn(user: DirectoryUser) async throws -> Response {
        let missing = try await missing(for: user.requireID())
        guard !missing.isEmpty else { return try await issueCode(for: user) }
        return try await consentPage(user: user, missing: missing)
    }

    /// The consent page's answer. `expired` renders what a stale or forged ticket gets: the sign-in page.
    func answerConsent(ticket: String, accepted: Bool, expired: () async throws -> Response) async throws -> Response {
        let now = request.identity.config.now()
        guard let content = try? ConsentTicket.open(ticket, with: request.identity.config.masterKey),
            content.expiresAt > now.timeIntervalSince1970, content.appId == app.appId,
            content.tenantId == tenant.tenantId, content.scope == scope,
            let user = try await DirectoryUser.find(content.userID, on: request.db), user.accountEnabled
        else { return try await expired() }
        guard accepted else {
            request.logger.notice(
                "Consent declined", metadata: ["client.id": "\(app.appId)", "user.id": "\(user.objectId)"])
            return try await reply.send(error: .consentDeclined, request: request)
        }
        let missing = try await missing(for: user.requireID())
        let isGlobalAdmin = try await Self.isGlobalAdministrator(user, on: request.db)
        let forOrganization =
            isGlobalAdmin && (prompts.contains("admin_consent") || parameters.consentForOrganization == "true")
        let needsAdmin = DelegatedConsent.adminOnly(missing, of: permissions.resource)
        if !forOrganization, prompts.contains("admin_consent") || !needsAdmin.isEmpty {
            return try await reply.send(
                error: .adminConsentRequired(needsAdmin.isEmpty ? missing : needsAdmin), request: request)
        }
        if !missing.isEmpty {
            try await consent.record(
                client: app.id, resource: permissions.resource.id, permissions: missing,
                principal: forOrganization ? nil : user.requireID())
        }
        request.logger.info(
            "Consent granted",
            metadata: [
                "client.id": "\(app.appId)", "resource.id": "\(permissions.resource.appId)",
                "consent.type": "\(forOrganization ? "AllPrincipals" : "Principal")",
                "permissions": "\(missing.joined(separator: " "))", "user.id": "\(user.objectId)",
            ])
        return try await issueCode(for: user)
    }

    private func consentPage(user: DirectoryUser, missing: [String]) async throws -> Response {
        let isGlobalAdmin = try await Self.isGlobalAdministrator(user, on: request.db)
        let needsAdmin = DelegatedConsent.adminOnly(missing, of: permissions.resource)
        let blocked: String? =
            if !isGlobalAdmin, prompts.contains("admin_consent") {
                "Only a Global Administrator can consent for your organization. Sign in with an administrator account."
            } else if !isGlobalAdmin, !needsAdmin.isEmpty {
                "\(app.displayName) needs permission to access resources in your organization that only an admin "
                    + "can grant. Ask an admin to grant permission to this app before you can use it."
            } else {
                nil
            }
        let ticket = try ConsentTicket(
            userID: user.requireID(), appId: app.appId, tenantId: tenant.tenantId, scope: scope,
            expiresAt: request.identity.config.now().timeIntervalSince1970 + Self.ticketLifetime
        ).seal(with: request.identity.config.masterKey)
        let context = ConsentContext(
            appName: app.displayName, tenantName: tenant.primaryDomain, userName: user.userPrincipalName,
            resourceName: permissions.resource.displayName, action: request.url.path,
            hidden: parameters.hiddenFields, ticket: ticket,
            permissions: missing.map {
                ConsentContext.Permission(value: $0, adminOnly: needsAdmin.contains($0))
            },
            offersOrganization: isGlobalAdmin && !prompts.contains("admin_consent"),
            forOrganization: prompts.contains("admin_consent"), blocked: blocked, canAccept: blocked == nil)
        return try await SignInPage.renderFlowPage(request, status: .ok) { flowToken in
            var context = context
            context.flowToken = flowToken
            return try await request.view.render("consent", context)
        }
    }

    private func issueCode(for user: DirectoryUser) async throws -> Response {
        let code = RandomToken.urlSafe(byteCount: 48)
        let now = request.identity.config.now()
        // S256 when the client names no method: `plain` would hand the verifier to anyone who sees the request.
        try await AuthorizationCode(
            codeDigest: RandomToken.digest(code), appID: app.id, userID: user.requireID(),
            redirectURI: redirectURI, scope: scope, resource: endpoint == .v1 ? parameters.resource : nil,
            nonce: parameters.nonce, codeChallenge: parameters.codeChallenge,
            codeChallengeMethod: parameters.codeChallenge == nil ? nil : (parameters.codeChallengeMethod ?? "S256"),
            expiresAt: now.addingTimeInterval(request.identity.config.authorizationCodeLifetime)
        ).create(on: request.db)
        let response = try await reply.send(
            fields: [("code", code), ("session_state", UUID().uuidString.lowercased())], request: request)
        response.cookies[AuthorizeController.flowCookie] = .expired
        return response
    }

    static func isGlobalAdministrator(_ user: DirectoryUser, on database: any Database) async throws -> Bool {
        try await user.$roleAssignments.query(on: database)
            .filter(\.$roleTemplateId == DirectoryRoleTemplate.globalAdministrator.templateId).first() != nil
    }
}

/// Who signed in and what they were asked, sealed with the master key into the consent form, so the answer
/// needs no second password entry and cannot be forged or moved to another request.
struct ConsentTicket: Codable {
    let userID: UUID
    let appId: String
    let tenantId: String
    let scope: String
    let expiresAt: Double

    func seal(with key: MasterKey) throws -> String {
        try key.seal(String(decoding: try JSONEncoder().encode(self), as: UTF8.self))
    }

    static func open(_ ticket: String, with key: MasterKey) throws -> ConsentTicket {
        guard ticket.utf8.count <= 4096 else { throw IdentityError.malformedRequest }
        return try JSONDecoder().decode(ConsentTicket.self, from: Data(try key.open(ticket).utf8))
    }
}

private struct ConsentContext: Encodable {
    struct Permission: Encodable {
        let value: String
        let adminOnly: Bool
    }

    let appName: String
    let tenantName: String
    let userName: String
    let resourceName: String
    let action: String
    let hidden: [SignInPage.Field]
    let ticket: String
    let permissions: [Permission]
    /// A Global Administrator may tick "Consent on behalf of your organization".
    let offersOrganization: Bool
    /// `prompt=admin_consent`: the consent is for the organization.
    let forOrganization: Bool
    /// Why this user cannot accept, if they cannot.
    let blocked: String?
    let canAccept: Bool
    var flowToken = ""
}

import Foundation

/// The desk's public paths — ServiceNow's URLs — declared once for routes, links, redirects and tests.
/// Each page is `{name}.do`; a record page takes `sys_id` (`-1` for a new record).
package enum DeskPath {
    package static let login = "/login.do"
    package static let logout = "/logout.do"
    package static let welcome = "/welcome.do"
    package static let oauthToken = "/oauth_token.do"
    package static let oauthRedirect = "/oauth_redirect.do"
    package static let incidentList = "/incident_list.do"
    package static let incident = "/incident.do"
    /// The reference pickers' user search (JSON).
    package static let userPicker = "/sys_user_reference.do"
    package static let userList = "/sys_user_list.do"
    package static let user = "/sys_user.do"
    package static let roleList = "/sys_user_role_list.do"
    package static let role = "/sys_user_role.do"
    package static let oauthEntityList = "/oauth_entity_list.do"
    package static let oauthEntity = "/oauth_entity.do"
    package static let scopePrivilegeList = "/sys_scope_privilege_list.do"
    package static let scopePrivilege = "/sys_scope_privilege.do"
    package static let syslogList = "/syslog_list.do"
    package static let syslog = "/syslog.do"
    package static let outboundLogList = "/sys_outbound_http_log_list.do"
    package static let outboundLog = "/sys_outbound_http_log.do"
    package static let health = "/healthz"
    package static let script = "/scripts/desk.js"

    /// A record page: `/{table}.do?sys_id=…`.
    package static func record(_ page: String, sysId: String) -> String { "\(page)?sys_id=\(sysId)" }

    /// The new-record form of a record page.
    package static func new(_ page: String) -> String { record(page, sysId: "-1") }
}

/// Role names of the desk and of the Microsoft 365 support app's scope.
package enum DeskRole {
    package static let admin = "admin"
    package static let itil = "itil"
}

/// The Microsoft 365 support app's scope, as ServiceNow names it, and its roles.
package enum M365SupportScope {
    package static let name = "x_mioms_m365_assis"
    package static let insightsUser = "\(name).insights_user"
    package static let administrator = "\(name).administrator"
    /// Where the Connector delivers case events on a desk (the app's inbound API), under the repository endpoint.
    package static let inboundEvents = "/api/\(name)/v1/events"
}

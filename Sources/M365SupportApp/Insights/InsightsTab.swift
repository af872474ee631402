import Foundation
import ServiceDesk
import Vapor

/// The incident form's "Microsoft 365 support" tab. It renders at once — only the address of its panel — and the
/// page's script loads the panel from ``InsightsPages``, so a slow or absent Connector never holds up the form.
/// Without scripts the tab links to the same panel as a page of its own.
struct InsightsTab: IncidentFormTab {
    let id = "x_mioms_m365_assis"
    let title = "Microsoft 365 support"
    var roles: Set<String> { AppRoles.users }
    let template = "x_mioms_m365_assis/tab"

    struct Context: Encodable, Sendable {
        let fragment: String
        let page: String
    }

    func context(incidentSysId: String, request: Request) async throws -> any Encodable & Sendable {
        let query = "sys_id=" + incidentSysId
        return Context(fragment: AppPath.insights + "?" + query + "&fragment=1", page: AppPath.insights + "?" + query)
    }
}

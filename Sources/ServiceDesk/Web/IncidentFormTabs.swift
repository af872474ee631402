import Foundation
import ServerSupport
import Synchronization
import Vapor

/// A tab another module adds to the incident form (the Microsoft 365 support app adds its own): a Leaf
/// template — from the module's own views, registered with `addLeafViews(from:name:)` — and its context.
package protocol IncidentFormTab: Sendable {
    var id: String { get }
    var title: String { get }
    /// Roles that see the tab (admin sees every tab).
    var roles: Set<String> { get }
    /// The template rendering the tab's panel; Leaf escapes what the context holds.
    var template: String { get }
    /// How long the tab may take (it may call another service) before its panel says so instead.
    var timeLimit: Duration { get }
    /// The template's context for this incident.
    func context(incidentSysId: String, request: Request) async throws -> any Encodable & Sendable
}

extension IncidentFormTab {
    package var timeLimit: Duration { .seconds(5) }
}

/// The tabs registered for the incident form, in order; rendered together, each within its time limit.
package final class IncidentFormTabs: Sendable {
    /// A tab as the form shows it: its panel, or why there is none.
    struct Rendered: Encodable, Sendable {
        let id: String
        let title: String
        let html: String
        /// What the panel says when the tab failed: the reason in plain words and the system log reference.
        let failure: String?
    }

    private let tabs = Mutex<[any IncidentFormTab]>([])

    package var all: [any IncidentFormTab] { tabs.withLock { $0 } }

    package func add(_ tab: any IncidentFormTab) { tabs.withLock { $0.append(tab) } }

    /// Renders `tabs` concurrently. A tab that fails or runs out of time becomes a panel naming the system log
    /// entry that holds the details; the rest of the page never depends on it.
    static func render(
        _ tabs: [any IncidentFormTab], incidentSysId: String, number: String, request: Request
    ) async -> [Rendered] {
        await withTaskGroup(of: (Int, Rendered).self) { group in
            for (index, tab) in tabs.enumerated() {
                group.addTask {
                    (index, await render(tab, incidentSysId: incidentSysId, number: number, request: request))
                }
            }
            var rendered: [(Int, Rendered)] = []
            for await result in group { rendered.append(result) }
            return rendered.sorted { $0.0 < $1.0 }.map(\.1)
        }
    }

    private static func render(
        _ tab: any IncidentFormTab, incidentSysId: String, number: String, request: Request
    ) async -> Rendered {
        do {
            let html = try await withTimeLimit(tab.timeLimit) {
                let context = try await tab.context(incidentSysId: incidentSysId, request: request)
                let view = try await renderView(tab.template, context, request: request)
                return String(buffer: view.data)
            }
            return Rendered(id: tab.id, title: tab.title, html: html, failure: nil)
        } catch {
            let reason = error is TimeLimitExceeded ? "did not answer within \(tab.timeLimit)" : "failed"
            let reference = await (try? request.systemLog())?.write(
                .error, source: "ui",
                "The '\(tab.title)' tab of incident \(number) \(reason): \(String(reflecting: error))",
                correlationId: request.correlationId)
            return Rendered(
                id: tab.id, title: tab.title, html: "",
                failure: "This section could not be loaded (it \(reason)). The rest of the incident works as usual."
                    + (reference.map { " System log entry: \($0)." } ?? ""))
        }
    }

    private static func renderView(_ template: String, _ context: some Encodable & Sendable, request: Request)
        async throws -> View
    {
        try await request.view.render(template, context)
    }
}

extension Application {
    private struct IncidentFormTabsKey: StorageKey {
        typealias Value = IncidentFormTabs
    }

    /// Tabs other modules add to the incident form.
    package var incidentFormTabs: IncidentFormTabs {
        if let tabs = storage[IncidentFormTabsKey.self] { return tabs }
        let tabs = IncidentFormTabs()
        storage[IncidentFormTabsKey.self] = tabs
        return tabs
    }
}

import Foundation
import Leaf
import LeafKit
import Vapor

extension Application {
    /// Renders views with Leaf from the `Views` folder of a module's resource bundle.
    package func useLeafViews(in bundle: Bundle) {
        views.use(.leaf)
        guard let views = bundle.resourceURL?.appendingPathComponent("Views").path else { return }
        // The bundle may sit under a hidden folder such as `.build`, so `.toVisibleFiles` cannot apply;
        // the sandbox still keeps template lookups inside the views folder.
        leaf.sources = .singleSource(
            NIOLeafFiles(
                fileio: fileio, limits: [.toSandbox, .onlyLeafExtensions], sandboxDirectory: views, viewDirectory: views
            ))
    }

    /// Adds the `Views` folder of another module's bundle (a scoped app's) to the templates Leaf searches,
    /// after the service's own; `name` keeps the sources apart.
    package func addLeafViews(from bundle: Bundle, name: String) throws {
        guard let views = bundle.resourceURL?.appendingPathComponent("Views").path else { return }
        try leaf.sources.register(
            source: name,
            using: NIOLeafFiles(
                fileio: fileio, limits: [.toSandbox, .onlyLeafExtensions], sandboxDirectory: views,
                viewDirectory: views),
            searchable: true)
    }
}

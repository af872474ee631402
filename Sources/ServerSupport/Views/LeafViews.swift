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
}

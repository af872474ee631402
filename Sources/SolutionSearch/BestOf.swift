/// How a ``BestOf`` ranks: `weaker(a, b)` is true when `a` ranks below `b` (a strict order, ties broken in it).
/// A type rather than a closure, so the comparison is inlined (a closure made the search's best-10 slower).
protocol Ranking {
    associatedtype Element
    static func weaker(_ a: Element, _ b: Element) -> Bool
}

/// The `capacity` best of what is offered, in a heap with the weakest on top: an offer costs one comparison
/// unless it enters.
struct BestOf<Order: Ranking> {
    typealias Element = Order.Element
    let capacity: Int
    private var heap: [Element] = []

    init(capacity: Int) {
        self.capacity = max(0, capacity)
        heap.reserveCapacity(self.capacity)
    }

    private func weaker(_ a: Element, _ b: Element) -> Bool { Order.weaker(a, b) }

    /// Whether it holds `capacity` elements, and the weakest of them.
    var isFull: Bool { heap.count >= capacity }
    var weakest: Element? { heap.first }

    /// Whether `element` would be kept if offered now: there is room, or it is stronger than the weakest.
    func wouldKeep(_ element: Element) -> Bool {
        guard heap.count >= capacity, let weakest = heap.first else { return capacity > 0 }
        return weaker(weakest, element)
    }

    /// Keeps `element` if it is among the best so far; returns whether it was kept and the one it pushed out.
    @discardableResult
    mutating func offer(_ element: Element) -> (kept: Bool, pushedOut: Element?) {
        if heap.count < capacity {
            heap.append(element)
            var child = heap.count - 1
            while child > 0, weaker(heap[child], heap[(child - 1) / 2]) {
                heap.swapAt(child, (child - 1) / 2)
                child = (child - 1) / 2
            }
            return (true, nil)
        }
        guard let weakest = heap.first, weaker(weakest, element) else { return (false, nil) }
        heap[0] = element
        var parent = 0
        while true {
            let left = 2 * parent + 1
            guard left < heap.count else { break }
            var child = left
            if left + 1 < heap.count, weaker(heap[left + 1], heap[left]) { child = left + 1 }
            guard weaker(heap[child], heap[parent]) else { break }
            heap.swapAt(child, parent)
            parent = child
        }
        return (true, weakest)
    }

    /// What was kept, best first.
    func sorted() -> [Element] {
        heap.sorted { weaker($1, $0) }
    }
}

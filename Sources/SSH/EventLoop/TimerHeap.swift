import Platform
/// Timers of one event loop: a min-heap of deadlines with lazy cancellation.
/// Confined to the loop's thread.
struct TimerHeap {
    typealias Handler = () -> Void

    private struct Entry {
        let deadline: Deadline
        let id: UInt64
    }

    private var heap: [Entry] = []
    private var handlers: [UInt64: Handler] = [:]
    private var nextID: UInt64 = 1

    var isEmpty: Bool { handlers.isEmpty }

    mutating func schedule(at deadline: Deadline, _ handler: @escaping Handler) -> UInt64 {
        let id = nextID
        nextID += 1
        handlers[id] = handler
        heap.append(Entry(deadline: deadline, id: id))
        siftUp(heap.count - 1)
        return id
    }

    mutating func cancel(_ id: UInt64) {
        guard handlers.removeValue(forKey: id) != nil else { return }
        if handlers.isEmpty {
            heap.removeAll(keepingCapacity: true)
        } else if heap.count > 64, heap.count > 2 * handlers.count {
            // Cancelled entries stay until they reach the top; a long-lived loop that cancels
            // far deadlines (command timeouts, a few per command) would keep them for as long
            // as those deadlines are away. Rebuild from the live ones when they are the minority.
            heap.removeAll { handlers[$0.id] == nil }
            for index in stride(from: heap.count / 2 - 1, through: 0, by: -1) { siftDown(index) }
        }
    }

    /// Entries held, cancelled ones included (for tests).
    var storedEntries: Int { heap.count }

    /// The earliest live deadline, dropping cancelled entries on the way.
    mutating func nextDeadline() -> Deadline? {
        while let top = heap.first {
            if handlers[top.id] != nil { return top.deadline }
            popTop()
        }
        return nil
    }

    /// Removes and returns the handlers of every timer due at `now`.
    mutating func popExpired(now: Deadline) -> [Handler] {
        var due: [Handler] = []
        while let top = heap.first, top.deadline <= now {
            popTop()
            if let handler = handlers.removeValue(forKey: top.id) { due.append(handler) }
        }
        return due
    }

    private mutating func popTop() {
        let last = heap.removeLast()
        guard !heap.isEmpty else { return }
        heap[0] = last
        siftDown(0)
    }

    private static func before(_ a: Entry, _ b: Entry) -> Bool {
        a.deadline < b.deadline || (a.deadline == b.deadline && a.id < b.id)
    }

    private mutating func siftUp(_ index: Int) {
        var child = index
        while child > 0 {
            let parent = (child - 1) / 2
            guard Self.before(heap[child], heap[parent]) else { return }
            heap.swapAt(child, parent)
            child = parent
        }
    }

    private mutating func siftDown(_ index: Int) {
        var parent = index
        while true {
            let left = 2 * parent + 1
            let right = left + 1
            var smallest = parent
            if left < heap.count, Self.before(heap[left], heap[smallest]) { smallest = left }
            if right < heap.count, Self.before(heap[right], heap[smallest]) { smallest = right }
            if smallest == parent { return }
            heap.swapAt(parent, smallest)
            parent = smallest
        }
    }
}

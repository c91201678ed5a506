import Locking

/// A consumer of a run's events: the console reporter, `--json`, the journal,
/// the workflow log, the report. Called in emission order, one event at a
/// time, never on an event loop; it must not block (writers queue their bytes).
public protocol RunEventSubscriber: Sendable {
    func receive(_ event: RunEvent)
}

/// Fans a run's events out to its subscribers, as swift-log's multiplex
/// handler does for log records. `emit` stamps the event with the run clock's
/// offset and queues it; it never blocks and never calls a subscriber itself,
/// so emitters on event loops wait for nobody. One delivery task at a time
/// drains the queue in order.
///
/// The queue is bounded by `capacity`: past it, droppable events (transfer
/// progress, which later events restate in full) are dropped and counted;
/// the others are always kept — there are a few per host and command, so
/// they are bounded by the run itself.
public final class RunEventSink: Sendable {
    private struct State {
        var queue: [RunEvent] = []
        var delivering = false
        var dropped = 0
        var idleWaiters: [CheckedContinuation<Void, Never>] = []
    }

    public let clock: RunClock
    public let capacity: Int
    private let subscribers: [any RunEventSubscriber]
    private let state = Locked(State())

    public init(clock: RunClock = RunClock(), subscribers: [any RunEventSubscriber], capacity: Int = 1 << 16) {
        self.clock = clock
        self.subscribers = subscribers
        self.capacity = max(1, capacity)
    }

    /// Queues `kind`, stamped now (under the queue's lock, so offsets never go back along the queue).
    public func emit(_ kind: RunEvent.Kind) {
        let startDelivery = state.withLock { state -> Bool in
            if state.queue.count >= capacity, kind.isDroppable {
                state.dropped += 1
                return false
            }
            state.queue.append(RunEvent(offset: clock.offset(), kind))
            if state.delivering { return false }
            state.delivering = true
            return true
        }
        if startDelivery { Task.detached { [self] in deliver() } }
    }

    /// Droppable events left out because the queue was full.
    public var droppedEvents: Int { state.withLock { $0.dropped } }

    /// Returns once every event emitted before the call has reached every subscriber.
    public func drain() async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let idle = state.withLock { state -> Bool in
                if !state.delivering { return true }
                state.idleWaiters.append(continuation)
                return false
            }
            if idle { continuation.resume() }
        }
    }

    private func deliver() {
        while true {
            let (batch, waiters) = state.withLock { state -> ([RunEvent], [CheckedContinuation<Void, Never>]) in
                if state.queue.isEmpty {
                    state.delivering = false
                    defer { state.idleWaiters.removeAll() }
                    return ([], state.idleWaiters)
                }
                defer { state.queue.removeAll(keepingCapacity: true) }
                return (state.queue, [])
            }
            if batch.isEmpty {
                for waiter in waiters { waiter.resume() }
                return
            }
            for event in batch {
                for subscriber in subscribers { subscriber.receive(event) }
            }
        }
    }
}

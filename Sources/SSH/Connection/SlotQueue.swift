import Platform
/// A FIFO semaphore inside one `SSHConnection` actor: at most `limit` holders,
/// the rest queue in order until they get a slot, their deadline passes, they
/// are cancelled, or the connection fails.
struct SlotQueue {
    enum Grant { case granted, timedOut, cancelled, connectionFailed }

    let limit: Int
    private(set) var inUse = 0
    private var waiters: [(id: UInt64, continuation: CheckedContinuation<Grant, Never>)] = []
    private var nextID: UInt64 = 0

    init(limit: Int) {
        self.limit = max(1, limit)
    }

    var isFull: Bool { inUse >= limit }

    /// Takes a slot now, or returns false when the caller must queue.
    mutating func tryAcquire() -> Bool {
        guard inUse < limit else { return false }
        inUse += 1
        return true
    }

    mutating func makeWaiterID() -> UInt64 {
        nextID += 1
        return nextID
    }

    mutating func enqueue(_ id: UInt64, _ continuation: CheckedContinuation<Grant, Never>) {
        waiters.append((id, continuation))
    }

    /// Hands the slot to the next waiter, or frees it.
    mutating func release() {
        if waiters.isEmpty {
            inUse -= 1
        } else {
            waiters.removeFirst().continuation.resume(returning: .granted)
        }
    }

    /// A waiter leaves the queue without a slot.
    mutating func remove(_ id: UInt64, _ outcome: Grant) {
        guard let index = waiters.firstIndex(where: { $0.id == id }) else { return }
        waiters.remove(at: index).continuation.resume(returning: outcome)
    }

    /// Every waiter leaves the queue, e.g. when the connection failed.
    mutating func removeAll(_ outcome: Grant) {
        let current = waiters
        waiters.removeAll()
        for waiter in current { waiter.continuation.resume(returning: outcome) }
    }
}

extension SSHConnection {
    enum SlotKind { case channel, open, kill }

    private func withSlots<Result>(_ kind: SlotKind, _ body: (inout SlotQueue) -> Result) -> Result {
        switch kind {
        case .channel: return body(&channelSlots)
        case .open: return body(&openLock)
        case .kill: return body(&killSlot)
        }
    }

    /// Waits for a slot until `deadline`, cancellation (when `cancellable`) or the connection's failure.
    func acquire(_ kind: SlotKind, phase: SSHPhase, deadline: Deadline, cancellable: Bool) async throws {
        if let failure { throw failure }
        if withSlots(kind, { $0.tryAcquire() }) { return }
        if cancellable, Task.isCancelled { throw SSHError(.cancelled, phase: phase, "cancelled") }
        let id = withSlots(kind) { $0.makeWaiterID() }
        var timer: UInt64?
        if deadline != .distantFuture {
            timer = loop.scheduleTimer(at: deadline) { [weak self] in
                self?.assumeIsolated { $0.withSlots(kind) { $0.remove(id, .timedOut) } }
            }
        }
        let loop = self.loop
        let grant = await withTaskCancellationHandler {
            await withCheckedContinuation { continuation in
                self.withSlots(kind) { $0.enqueue(id, continuation) }
            }
        } onCancel: {
            guard cancellable else { return }
            loop.execute { [weak self] in self?.assumeIsolated { $0.withSlots(kind) { $0.remove(id, .cancelled) } } }
        }
        if let timer { loop.cancelTimer(timer) }
        switch grant {
        case .granted: return
        case .timedOut:
            throw SSHError(.timeout, phase: phase, kind == .channel
                           ? "no free channel on the connection before the deadline" : "timed out waiting for the connection")
        case .cancelled: throw SSHError(.cancelled, phase: phase, "cancelled")
        case .connectionFailed: throw failure ?? SSHError(.connectionLost, phase: phase, "connection lost")
        }
    }

    func release(_ kind: SlotKind) {
        withSlots(kind) { $0.release() }
    }
}

/// Counts the channels open on one connection and queues commands beyond the
/// limit in FIFO order, each until its deadline. Lives inside the `SSHConnection` actor.
struct ChannelSlots {
    let limit: Int
    private(set) var inUse = 0
    private var waiters: [(id: UInt64, continuation: CheckedContinuation<Bool, Never>)] = []
    private var nextID: UInt64 = 0

    init(limit: Int) {
        self.limit = max(1, limit)
    }

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

    mutating func enqueue(_ id: UInt64, _ waiter: CheckedContinuation<Bool, Never>) {
        waiters.append((id, waiter))
    }

    /// Hands the slot to the next waiter, or frees it.
    mutating func release() {
        if waiters.isEmpty {
            inUse -= 1
        } else {
            waiters.removeFirst().continuation.resume(returning: true)
        }
    }

    /// A waiter's deadline passed: it leaves the queue without a slot.
    mutating func expire(_ id: UInt64) {
        guard let index = waiters.firstIndex(where: { $0.id == id }) else { return }
        waiters.remove(at: index).continuation.resume(returning: false)
    }
}

extension SSHConnection {
    /// Waits for a free channel slot until `deadline`.
    func acquireChannelSlot(deadline: Deadline) async throws {
        if channelSlots.tryAcquire() { return }
        let id = channelSlots.makeWaiterID()
        var timer: UInt64?
        if deadline != .distantFuture {
            timer = loop.scheduleTimer(at: deadline) { [weak self] in
                self?.assumeIsolated { $0.channelSlots.expire(id) }
            }
        }
        let granted = await withCheckedContinuation { continuation in
            self.channelSlots.enqueue(id, continuation)
        }
        if let timer { loop.cancelTimer(timer) }
        if !granted {
            throw SSHError(.timeout, phase: .channel, "no free channel on the connection before the deadline")
        }
    }

    func releaseChannelSlot() {
        channelSlots.release()
    }
}

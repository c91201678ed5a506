/// Counts the channels open on one connection and queues commands beyond the
/// limit in FIFO order. Lives inside the `SSHConnection` actor.
struct ChannelSlots {
    let limit: Int
    private(set) var inUse = 0
    private var waiters: [CheckedContinuation<Void, Never>] = []

    init(limit: Int) {
        self.limit = max(1, limit)
    }

    /// Takes a slot now, or returns false when the caller must queue.
    mutating func tryAcquire() -> Bool {
        guard inUse < limit else { return false }
        inUse += 1
        return true
    }

    mutating func enqueue(_ waiter: CheckedContinuation<Void, Never>) {
        waiters.append(waiter)
    }

    /// Hands the slot to the next waiter, or frees it.
    mutating func release() {
        if waiters.isEmpty {
            inUse -= 1
        } else {
            waiters.removeFirst().resume()
        }
    }
}

extension SSHConnection {
    func acquireChannelSlot() async {
        if channelSlots.tryAcquire() { return }
        await withCheckedContinuation { channelSlots.enqueue($0) }
    }

    func releaseChannelSlot() {
        channelSlots.release()
    }
}

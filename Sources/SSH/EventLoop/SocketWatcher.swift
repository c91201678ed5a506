import CLinux
import Platform

/// Readiness notifications for one socket, shared by every waiter on it. A
/// session carried by a tunnel has no socket: its watcher is fired by the
/// carrier that moves its bytes (`init(loop:)`, `wakeAll`, `hangUp`).
///
/// Loop-confined: created, awaited and fired only on its loop's thread (the
/// owning `SSHConnection` actor runs there). Any readiness event wakes *all*
/// waiters, because libssh2 may have queued data for one channel while
/// another channel was reading; each waiter retries its call and waits again.
final class SocketWatcher: @unchecked Sendable {
    enum Outcome { case ready, timedOut, cancelled }

    private struct Waiter {
        var continuation: CheckedContinuation<Outcome, Never>
        var timer: UInt64?
    }

    let loop: EventLoop
    /// nil for a tunnel's watcher.
    let fd: Int32?
    private var waiters: [UInt64: Waiter] = [:]
    private var nextID: UInt64 = 0
    private var interest: IOInterest = []
    /// Set once the peer hung up or the socket errored: waits then return at once
    /// so the next libssh2 call reports the failure.
    private(set) var hungUp = false

    init(loop: EventLoop, fd: Int32) {
        self.loop = loop
        self.fd = fd
        loop.watch(fd, interest: []) { [unowned self] events in self.fire(events) }
    }

    /// A watcher with no socket, fired by whoever carries the session's bytes.
    init(loop: EventLoop) {
        self.loop = loop
        fd = nil
    }

    func makeWaiterID() -> UInt64 {
        nextID += 1
        return nextID
    }

    func register(_ id: UInt64, interest wanted: IOInterest, deadline: Deadline,
                  continuation: CheckedContinuation<Outcome, Never>) {
        precondition(loop.inLoop, "SocketWatcher used off its loop")
        if hungUp {
            continuation.resume(returning: .ready)
            return
        }
        var timer: UInt64?
        if deadline != .distantFuture {
            timer = loop.scheduleTimer(at: deadline) { [unowned self] in finish(id, .timedOut) }
        }
        waiters[id] = Waiter(continuation: continuation, timer: timer)
        if let fd, !interest.isSuperset(of: wanted) {
            interest.formUnion(wanted)
            loop.updateInterest(fd, interest)
        }
    }

    func finish(_ id: UInt64, _ outcome: Outcome) {
        guard let waiter = waiters.removeValue(forKey: id) else { return }
        if let timer = waiter.timer { loop.cancelTimer(timer) }
        waiter.continuation.resume(returning: outcome)
    }

    /// Wakes every waiter, e.g. when the connection is being torn down.
    func wakeAll(_ outcome: Outcome) {
        let current = waiters
        waiters.removeAll()
        for waiter in current.values {
            if let timer = waiter.timer { loop.cancelTimer(timer) }
            waiter.continuation.resume(returning: outcome)
        }
    }

    func stop() {
        wakeAll(.cancelled)
        if let fd { loop.unwatch(fd) }
    }

    /// The transport ended: every wait from now on returns at once.
    func hangUp() {
        hungUp = true
        wakeAll(.ready)
    }

    private func fire(_ events: UInt32) {
        guard let fd else { return }
        if events & (EPOLLERR.rawValue | EPOLLHUP.rawValue) != 0 {
            // Level-triggered ERR/HUP would fire forever; stop watching and let
            // the next libssh2 call surface the error.
            hungUp = true
            loop.unwatch(fd)
        } else if interest != [] {
            interest = []
            loop.updateInterest(fd, [])
        }
        wakeAll(.ready)
    }
}

import Foundation
import Glibc
import Locking

/// The one place Tasker's output is written: console, workflow log, spill and
/// `--output-dir` files. Producers only queue bytes, so an event loop never
/// waits on a slow terminal, pipe or disk; one writer thread drains the queue
/// in order.
///
/// The queue is bounded by `budget`. Queuing never blocks, but a producer
/// that reads remote output asks `canAcceptMore(orResume:)` after each chunk
/// and stops reading while the queue is over budget: SSH flow control then
/// holds back only the hosts whose output cannot be taken.
public final class OutputWriter: Sendable {
    public static let shared = OutputWriter(budget: 8 << 20)

    private enum Item {
        case bytes([UInt8], fd: Int32)
        case close(Int32)
    }

    private struct State {
        var items: [Item] = []
        var queuedBytes = 0
        var writing = false
        var sleeping = false
        var roomWaiters: [@Sendable () -> Void] = []
        var idleWaiters: [DispatchSemaphore] = []
    }

    /// Bytes queued before producers of remote output are held back.
    public let budget: Int
    private let state = Locked(State())
    private let wake = DispatchSemaphore(value: 0)

    public init(budget: Int) {
        self.budget = max(1, budget)
        let thread = Thread { [self] in run() }
        thread.name = "tasker-writer"
        thread.start()
    }

    /// Queues `bytes` for `fd`; never blocks.
    public func write(_ bytes: [UInt8], to fd: Int32) {
        guard !bytes.isEmpty else { return }
        enqueue(.bytes(bytes, fd: fd), size: bytes.count)
    }

    /// Closes `fd` once everything queued for it before has been written.
    public func close(_ fd: Int32) {
        enqueue(.close(fd), size: 0)
    }

    /// Whether the queue can take more now. When it cannot, `resume` is called
    /// (on the writer thread) once the queue has drained to half the budget.
    public func canAcceptMore(orResume resume: @escaping @Sendable () -> Void) -> Bool {
        state.withLock { state in
            if state.queuedBytes < budget { return true }
            state.roomWaiters.append(resume)
            return false
        }
    }

    /// Blocks until everything queued so far has been written. Not for event loops.
    public func flush() {
        let done = state.withLock { state -> DispatchSemaphore? in
            if state.items.isEmpty, !state.writing { return nil }
            let semaphore = DispatchSemaphore(value: 0)
            state.idleWaiters.append(semaphore)
            return semaphore
        }
        done?.wait()
    }

    private func enqueue(_ item: Item, size: Int) {
        let wakeWriter = state.withLock { state -> Bool in
            state.items.append(item)
            state.queuedBytes += size
            defer { state.sleeping = false }
            return state.sleeping
        }
        if wakeWriter { wake.signal() }
    }

    private func run() {
        while true {
            let batch = state.withLock { state -> [Item] in
                let items = state.items
                state.items.removeAll(keepingCapacity: true)
                state.writing = !items.isEmpty
                if items.isEmpty { state.sleeping = true }
                return items
            }
            if batch.isEmpty {
                wake.wait()
                continue
            }
            var written = 0
            var index = 0
            while index < batch.count {
                switch batch[index] {
                case .close(let fd):
                    Glibc.close(fd)
                    index += 1
                case .bytes(let first, let fd):
                    // Consecutive chunks for one descriptor go out in one write.
                    var end = index + 1
                    var total = first.count
                    while end < batch.count, case .bytes(let next, let nextFD) = batch[end], nextFD == fd, total < 1 << 20 {
                        total += next.count
                        end += 1
                    }
                    if end == index + 1 {
                        Self.writeAll(first, to: fd)
                    } else {
                        var joined: [UInt8] = []
                        joined.reserveCapacity(total)
                        for case .bytes(let chunk, _) in batch[index..<end] { joined += chunk }
                        Self.writeAll(joined, to: fd)
                    }
                    written += total
                    index = end
                }
            }
            let (room, idle) = state.withLock { state -> ([@Sendable () -> Void], [DispatchSemaphore]) in
                state.queuedBytes -= written
                state.writing = false
                var room: [@Sendable () -> Void] = []
                if state.queuedBytes <= budget / 2 {
                    room = state.roomWaiters
                    state.roomWaiters.removeAll()
                }
                var idle: [DispatchSemaphore] = []
                if state.items.isEmpty {
                    idle = state.idleWaiters
                    state.idleWaiters.removeAll()
                }
                return (room, idle)
            }
            for resume in room { resume() }
            for semaphore in idle { semaphore.signal() }
        }
    }

    /// Writes everything, waiting on a descriptor that is non-blocking and full;
    /// gives up on other errors (a closed pipe, a full disk).
    private static func writeAll(_ bytes: [UInt8], to fd: Int32) {
        bytes.withUnsafeBytes { buffer in
            var offset = 0
            while offset < buffer.count {
                let n = Glibc.write(fd, buffer.baseAddress! + offset, buffer.count - offset)
                if n >= 0 {
                    offset += n
                    continue
                }
                switch errno {
                case EINTR: continue
                case EAGAIN:
                    var entry = pollfd(fd: fd, events: Int16(POLLOUT), revents: 0)
                    _ = poll(&entry, 1, 1000)
                default: return
                }
            }
        }
    }
}

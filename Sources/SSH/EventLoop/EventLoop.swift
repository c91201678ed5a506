import CLinux
import Foundation
import Glibc
import Locking
import Platform

/// Readiness a file descriptor is watched for.
public struct IOInterest: OptionSet, Sendable {
    public let rawValue: UInt32
    public init(rawValue: UInt32) { self.rawValue = rawValue }
    public static let readable = IOInterest(rawValue: 1)
    public static let writable = IOInterest(rawValue: 2)
}

/// One epoll thread that is also a Swift serial executor.
///
/// Actors pinned to a loop (see `SSHConnection`) run every job on this thread,
/// so libssh2 sessions never leave it. File-descriptor watches and timers are
/// loop-confined: register them only from code running on the loop.
public final class EventLoop: SerialExecutor, @unchecked Sendable {
    private enum Work: Sendable {
        case job(UnownedJob)
        case closure(@Sendable () -> Void)
    }

    private struct Inbox {
        var work: [Work] = []
        var sleeping = false
    }

    public let name: String
    private let epollFD: Int32
    private let wakeFD: Int32
    private let inbox = Locked(Inbox())
    private let threadID = Locked<pthread_t?>(nil)

    // Loop-confined state.
    private var watches: [Int32: (UInt32) -> Void] = [:]
    private var timers = TimerHeap()

    public init(name: String) {
        self.name = name
        epollFD = epoll_create1(Int32(EPOLL_CLOEXEC))
        wakeFD = eventfd(0, Int32(EFD_CLOEXEC | EFD_NONBLOCK))
        precondition(epollFD >= 0 && wakeFD >= 0, "cannot create epoll/eventfd: \(String(cString: strerror(errno)))")
        var event = epoll_event()
        event.events = EPOLLIN.rawValue
        event.data.fd = wakeFD
        epoll_ctl(epollFD, EPOLL_CTL_ADD, wakeFD, &event)
        let ready = DispatchSemaphore(value: 0)
        let thread = Thread { [self] in
            threadID.withLock { $0 = pthread_self() }
            ready.signal()
            run()
        }
        thread.name = name
        thread.stackSize = 1 << 20
        thread.start()
        ready.wait()
    }

    // MARK: SerialExecutor

    public func enqueue(_ job: consuming ExecutorJob) {
        submit(.job(UnownedJob(job)))
    }

    public func asUnownedSerialExecutor() -> UnownedSerialExecutor {
        UnownedSerialExecutor(ordinary: self)
    }

    public func checkIsolated() {
        precondition(inLoop, "not on event loop \(name)")
    }

    /// Whether the caller runs on this loop's thread.
    public var inLoop: Bool {
        guard let id = threadID.withLock({ $0 }) else { return false }
        return pthread_equal(id, pthread_self()) != 0
    }

    /// Runs `body` on the loop thread, soon.
    public func execute(_ body: @escaping @Sendable () -> Void) {
        submit(.closure(body))
    }

    private func submit(_ work: Work) {
        let wake = inbox.withLock { inbox -> Bool in
            inbox.work.append(work)
            if inbox.sleeping {
                inbox.sleeping = false
                return true
            }
            return false
        }
        if wake {
            var one: UInt64 = 1
            _ = Glibc.write(wakeFD, &one, 8)
        }
    }

    // MARK: Loop-confined registration

    /// Checked in debug builds (as swift-nio's `assertInEventLoop`): the watches and timers are the loop thread's alone.
    private func assertInLoop(_ function: StaticString = #function) {
        assert(inLoop, "EventLoop.\(function) called off event loop \(name)")
    }

    /// Watches `fd` for `interest`; the handler receives raw epoll events.
    /// Call again to change the interest; an empty interest keeps the fd registered but quiet.
    func watch(_ fd: Int32, interest: IOInterest, handler: @escaping (UInt32) -> Void) {
        assertInLoop()
        var event = epoll_event()
        event.events = epollEvents(interest)
        event.data.fd = fd
        let op = watches[fd] == nil ? EPOLL_CTL_ADD : EPOLL_CTL_MOD
        watches[fd] = handler
        if epoll_ctl(epollFD, op, fd, &event) != 0, op == EPOLL_CTL_ADD {
            watches[fd] = nil
        }
    }

    func updateInterest(_ fd: Int32, _ interest: IOInterest) {
        assertInLoop()
        guard watches[fd] != nil else { return }
        var event = epoll_event()
        event.events = epollEvents(interest)
        event.data.fd = fd
        epoll_ctl(epollFD, EPOLL_CTL_MOD, fd, &event)
    }

    func unwatch(_ fd: Int32) {
        assertInLoop()
        guard watches.removeValue(forKey: fd) != nil else { return }
        epoll_ctl(epollFD, EPOLL_CTL_DEL, fd, nil)
    }

    func scheduleTimer(at deadline: Deadline, _ handler: @escaping () -> Void) -> UInt64 {
        assertInLoop()
        return timers.schedule(at: deadline, handler)
    }

    func cancelTimer(_ id: UInt64) {
        assertInLoop()
        timers.cancel(id)
    }

    private func epollEvents(_ interest: IOInterest) -> UInt32 {
        var events: UInt32 = 0
        if interest.contains(.readable) { events |= EPOLLIN.rawValue | EPOLLRDHUP.rawValue }
        if interest.contains(.writable) { events |= EPOLLOUT.rawValue }
        return events
    }

    // MARK: The loop

    private func run() {
        let capacity = 512
        let events = UnsafeMutablePointer<epoll_event>.allocate(capacity: capacity)
        defer { events.deallocate() }
        while true {
            runQueuedWork()
            let timeout = pollTimeoutMilliseconds()
            if timeout != 0 {
                let mustStayAwake = inbox.withLock { inbox -> Bool in
                    if !inbox.work.isEmpty { return true }
                    inbox.sleeping = true
                    return false
                }
                if mustStayAwake { continue }
            }
            let count = epoll_wait(epollFD, events, Int32(capacity), timeout)
            inbox.withLock { $0.sleeping = false }
            if count > 0 {
                for index in 0..<Int(count) {
                    let fd = events[index].data.fd
                    if fd == wakeFD {
                        var value: UInt64 = 0
                        _ = Glibc.read(wakeFD, &value, 8)
                    } else if let handler = watches[fd] {
                        handler(events[index].events)
                    }
                }
            }
            for handler in timers.popExpired(now: .now()) { handler() }
        }
    }

    private func runQueuedWork() {
        while true {
            let batch = inbox.withLock { inbox -> [Work] in
                let work = inbox.work
                inbox.work.removeAll(keepingCapacity: true)
                return work
            }
            if batch.isEmpty { return }
            for work in batch {
                switch work {
                case .job(let job): job.runSynchronously(on: asUnownedSerialExecutor())
                case .closure(let body): body()
                }
            }
        }
    }

    private func pollTimeoutMilliseconds() -> Int32 {
        guard let next = timers.nextDeadline() else { return -1 }
        let now = Deadline.now()
        if next <= now { return 0 }
        let ms = (next.uptimeNanoseconds - now.uptimeNanoseconds + 999_999) / 1_000_000
        return Int32(min(ms, 60_000))
    }
}

extension EventLoop {
    /// Suspends the caller until `deadline` without blocking any thread.
    public func sleep(until deadline: Deadline) async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            execute { [self] in
                _ = scheduleTimer(at: deadline) { continuation.resume() }
            }
        }
    }
}

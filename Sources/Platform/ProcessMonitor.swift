import CLinux
import Glibc
import Locking
import Synchronization

/// One thread that watches every running local child: drains both pipes into
/// the child's output sink, notices exits, enforces deadlines (SIGKILL to the
/// group) and stop requests (SIGTERM, then SIGKILL after 0.5 s). A parallel
/// block of 50 subtasks costs 50 processes, not 50 threads.
///
/// The thread sleeps in poll() until something happens: output on a pipe, an
/// exit (each child's pidfd becomes readable), a new child or a stop request
/// (the wake pipe), or the nearest deadline.
final class ProcessMonitor: @unchecked Sendable {
    static let shared = ProcessMonitor()

    /// A watched child. Handed to the monitor thread through `pending`, then touched only there
    /// (but for `stopRequested`, which any thread may set).
    final class Child: @unchecked Sendable {
        let pid: pid_t
        /// Readable once the child exits; -1 on kernels without pidfd (then the monitor looks every 50 ms).
        let pidfd: Int32
        /// The parent's ends of the stdout and stderr pipes (-1 once closed, or when not piped).
        var fds: [Int32]
        let output: any OutputSink
        let deadline: Deadline
        let stopRequested = Atomic<Bool>(false)
        let finished: @Sendable (LocalProcess.Ending) -> Void
        var timedOut = false
        var exitStatus: Int32?
        var terminateSentAt: Deadline?
        /// Grandchildren may keep the pipes open: after the exit, drain for at most 5 s.
        var drainDeadline: Deadline?

        init(pid: pid_t, fds: [Int32], output: any OutputSink, timeout: Double?, finished: @escaping @Sendable (LocalProcess.Ending) -> Void) {
            self.pid = pid
            pidfd = processExitDescriptor(pid)
            self.fds = fds
            self.output = output
            deadline = Deadline.after(seconds: timeout)
            self.finished = finished
        }

        /// When the monitor must look at this child again even if nothing happens.
        var nextCheck: Deadline? {
            if exitStatus != nil { return drainDeadline }
            var next: Deadline? = timedOut ? nil : deadline
            if let sent = terminateSentAt {
                next = min(next ?? .distantFuture, Deadline(uptimeNanoseconds: sent.uptimeNanoseconds + 500_000_000))
            }
            if pidfd < 0 { next = min(next ?? .distantFuture, .after(seconds: 0.05)) }
            return next
        }
    }

    private let pending = Locked<[Child]>([])
    private var children: [Child] = []
    private let wakeRead: Int32
    private let wakeWrite: Int32
    private let buffer = UnsafeMutableRawPointer.allocate(byteCount: 65536, alignment: 16)

    private init() {
        var wake: [Int32] = [0, 0]
        guard tasker_pipe2(&wake, O_CLOEXEC | O_NONBLOCK) == 0 else {
            fatalError("cannot create the process monitor's wake pipe: \(String(cString: strerror(errno)))")
        }
        (wakeRead, wakeWrite) = (wake[0], wake[1])
        var thread = pthread_t()
        let started = pthread_create(&thread, nil, { context in
            let monitor = Unmanaged<ProcessMonitor>.fromOpaque(context!).takeUnretainedValue()
            tasker_name_thread("tasker-processes")
            monitor.run()
        }, Unmanaged.passUnretained(self).toOpaque())
        guard started == 0 else { fatalError("cannot start the process monitor thread: \(String(cString: strerror(started)))") }
        pthread_detach(thread)
    }

    /// Hands `child` to the monitor thread.
    func watch(_ child: Child) {
        pending.withLock { $0.append(child) }
        wake()
    }

    /// Asks the monitor to stop `child` (SIGTERM, then SIGKILL after 0.5 s); from any thread.
    func stop(_ child: Child) {
        child.stopRequested.store(true, ordering: .releasing)
        wake()
    }

    private func wake() {
        var byte: UInt8 = 1
        _ = write(wakeWrite, &byte, 1)
    }

    private func run() -> Never {
        while true {
            children += pending.withLock { pending in
                defer { pending.removeAll() }
                return pending
            }
            children.removeAll { check($0) }
            // One entry per polled descriptor, in the same order: what each pollfd is for.
            var pollfds = [pollfd(fd: wakeRead, events: Int16(POLLIN), revents: 0)]
            var sources: [PolledSource] = [.wake]
            for child in children {
                for (index, fd) in child.fds.enumerated() where fd >= 0 {
                    pollfds.append(pollfd(fd: fd, events: Int16(POLLIN), revents: 0))
                    sources.append(.output(child, index))
                }
                if child.exitStatus == nil, child.pidfd >= 0 {
                    pollfds.append(pollfd(fd: child.pidfd, events: Int16(POLLIN), revents: 0))
                    sources.append(.exit)
                }
            }
            let ready = poll(&pollfds, nfds_t(pollfds.count), pollTimeout())
            guard ready > 0 else { continue }
            for (entry, source) in zip(pollfds, sources) where entry.revents != 0 {
                switch source {
                case .wake:
                    var drain = [UInt8](repeating: 0, count: 64)
                    _ = read(wakeRead, &drain, 64)
                case .output(let child, let index):
                    // Non-blocking: a read here never holds up the deadlines of the other children.
                    let n = read(entry.fd, buffer, 65536)
                    if n > 0 {
                        child.output.write(UnsafeRawBufferPointer(start: buffer, count: n), to: index == 0 ? .stdout : .stderr)
                    } else if n == 0 || (errno != EINTR && errno != EAGAIN) {
                        close(entry.fd)
                        child.fds[index] = -1
                    }
                case .exit:
                    break  // the next check() reaps it
                }
            }
        }
    }

    private enum PolledSource {
        case wake
        case output(Child, Int)
        case exit
    }

    /// Milliseconds until the nearest child deadline; -1 (wait for an event) when there is none.
    private func pollTimeout() -> Int32 {
        guard let next = children.compactMap(\.nextCheck).min() else { return -1 }
        let now = Deadline.now()
        if next <= now { return 0 }
        return Int32(min((next.uptimeNanoseconds - now.uptimeNanoseconds + 999_999) / 1_000_000, 60_000))
    }

    /// Advances one child; true when it is finished and its waiter told.
    private func check(_ child: Child) -> Bool {
        if child.exitStatus == nil {
            var raw: Int32 = 0
            if waitpid(child.pid, &raw, WNOHANG) == child.pid {
                child.exitStatus = raw
                child.drainDeadline = .after(seconds: 5)
            }
        }
        if child.exitStatus == nil {
            if !child.timedOut, child.deadline.hasPassed {
                child.timedOut = true
                kill(-child.pid, SIGKILL)
            }
            if child.stopRequested.load(ordering: .acquiring) {
                if child.terminateSentAt == nil {
                    child.terminateSentAt = .now()
                    kill(-child.pid, SIGTERM)
                } else if Deadline.milliseconds(since: child.terminateSentAt!) >= 500 {
                    kill(-child.pid, SIGKILL)
                }
            }
            return false
        }
        let drained = child.fds.allSatisfy { $0 < 0 }
        guard drained || (child.drainDeadline?.hasPassed ?? true) else { return false }
        for fd in child.fds where fd >= 0 { close(fd) }
        if child.pidfd >= 0 { close(child.pidfd) }
        child.finished(LocalProcess.Ending(waitStatus: child.exitStatus!, timedOut: child.timedOut,
                                           stopped: child.stopRequested.load(ordering: .acquiring)))
        return true
    }
}

import CSystem
import Fleet
import Foundation
import Glibc
import Locking
import SSH
import Synchronization

/// One thread that watches every running local child: drains both pipes into
/// bounded captures, notices exits, enforces deadlines (SIGKILL to the group)
/// and cancellation (SIGTERM, then SIGKILL after 0.5 s). A parallel block of
/// 50 subtasks costs 50 processes, not 50 threads.
///
/// The thread sleeps in poll() until something happens: output on a pipe, an
/// exit (each child's pidfd becomes readable), a new child or a cancellation
/// (the wake pipe), or the nearest deadline.
final class ProcessMonitor: @unchecked Sendable {
    static let shared = ProcessMonitor()

    /// A watched child. Handed to the monitor thread through `pending`, then touched only there.
    private final class Child: @unchecked Sendable {
        let pid: pid_t
        /// Readable once the child exits; -1 on kernels without pidfd (then the monitor looks every 50 ms).
        let pidfd: Int32
        var fds: [Int32]
        let captures: [SpilledCapture]
        let deadline: Deadline
        let timeout: Double?
        /// Set from any thread when the waiting task is cancelled.
        let stopRequested = Atomic<Bool>(false)
        let continuation: CheckedContinuation<CommandExit, Never>
        var timedOut = false
        var exitStatus: Int32?
        var terminateSentAt: Deadline?
        /// Grandchildren may keep the pipes open: after the exit, drain for at most 5 s.
        var drainDeadline: Deadline?

        init(pid: pid_t, fds: [Int32], spillDirectory: String, timeout: Double?,
             continuation: CheckedContinuation<CommandExit, Never>) {
            self.pid = pid
            pidfd = tasker_pidfd_open(pid)
            if pidfd >= 0 { _ = fcntl(pidfd, F_SETFD, FD_CLOEXEC) }
            self.fds = fds
            captures = [SpilledCapture(kind: "stdout", directory: spillDirectory),
                        SpilledCapture(kind: "stderr", directory: spillDirectory)]
            deadline = Deadline.after(seconds: timeout)
            self.timeout = timeout
            self.continuation = continuation
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
        let thread = Thread { [unowned self] in run() }
        thread.name = "tasker-processes"
        thread.start()
    }

    /// Waits for the child; cancelling the waiting task stops it (SIGTERM, then SIGKILL).
    func watch(pid: pid_t, fds: [Int32], timeout: Double?, spillDirectory: String) async -> CommandExit {
        let child = Locked<Child?>(nil)
        return await withTaskCancellationHandler {
            await withCheckedContinuation { continuation in
                let watched = Child(pid: pid, fds: fds, spillDirectory: spillDirectory, timeout: timeout, continuation: continuation)
                let cancelled = child.withLock { slot in
                    slot = watched
                    return Task.isCancelled
                }
                if cancelled { watched.stopRequested.store(true, ordering: .releasing) }
                pending.withLock { $0.append(watched) }
                wake()
            }
        } onCancel: {
            child.withLock { $0 }?.stopRequested.store(true, ordering: .releasing)
            wake()
        }
    }

    private func wake() {
        var byte: UInt8 = 1
        _ = write(wakeWrite, &byte, 1)
    }

    private func run() {
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
                        child.captures[index].append(UnsafeRawBufferPointer(start: buffer, count: n))
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

    /// Advances one child; true when it is finished and its waiter resumed.
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
        let raw = child.exitStatus!
        let status = (raw & 0x7f) == 0 ? Int((raw >> 8) & 0xff) : -Int(raw & 0x7f)
        var stderr = child.captures[1].text
        if child.timedOut { stderr += "\nProcess killed after timeout of \(Int(child.timeout ?? 0)) seconds" }
        child.continuation.resume(returning: CommandExit(
            ending: child.timedOut ? .timedOut : .exited, status: status, stdout: child.captures[0].text, stderr: stderr,
            stdoutFile: child.captures[0].finish(), stderrFile: child.captures[1].finish()))
        return true
    }
}

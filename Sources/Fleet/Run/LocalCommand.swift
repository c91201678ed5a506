import Foundation
import Glibc
import Locking
import SSH

/// Runs a command on the controller for an inventory host with
/// `ansible_connection=local`, as `/bin/sh -c` in a process group of its own,
/// its output into the same capture a remote host's goes to. Reading blocks,
/// so it happens on a thread of its own; a deadline or cancellation kills the
/// whole group.
enum LocalCommand {
    struct Failure: Error, CustomStringConvertible {
        var description: String
    }

    static func run(_ command: String, output: any OutputSink, deadline: Deadline) async throws -> RemoteExit {
        let started = try start(command)
        let killed = Locked(false)
        let result: (Int32, Bool) = await withTaskCancellationHandler {
            await withCheckedContinuation { continuation in
                let thread = Thread {
                    continuation.resume(returning: pump(started, output: output, deadline: deadline, killed: killed))
                }
                thread.name = "tasker-local-command"
                thread.start()
            }
        } onCancel: {
            killed.withLock { $0 = true }
            kill(-started.pid, SIGKILL)
        }
        let (status, timedOut) = result
        if killed.withLock({ $0 }) { throw SSHError(.cancelled, phase: .exec, "cancelled") }
        if timedOut { throw SSHError(.timeout, phase: .exec, "command timed out") }
        if status & 0x7f != 0 { return RemoteExit(exitCode: nil, signal: SignalName.name(of: status & 0x7f)) }
        return RemoteExit(exitCode: (status >> 8) & 0xff, signal: nil)
    }

    private struct Started {
        var pid: pid_t
        var stdout: Int32
        var stderr: Int32
    }

    private static func start(_ command: String) throws -> Started {
        var out: [Int32] = [-1, -1]
        var err: [Int32] = [-1, -1]
        guard pipe(&out) == 0, pipe(&err) == 0 else { throw Failure(description: "cannot create pipes: \(String(cString: strerror(errno)))") }
        for fd in [out[0], err[0]] { _ = fcntl(fd, F_SETFD, FD_CLOEXEC) }
        let null = open("/dev/null", O_RDONLY | O_CLOEXEC)
        defer {
            close(out[1])
            close(err[1])
            if null >= 0 { close(null) }
        }
        do {
            let pid = try ProcessSpawn.start(["/bin/sh", "-c", command], stdin: null, stdout: out[1], stderr: err[1])
            return Started(pid: pid, stdout: out[0], stderr: err[0])
        } catch {
            close(out[0])
            close(err[0])
            throw Failure(description: "cannot start /bin/sh: \(error)")
        }
    }

    /// Reads both pipes to their end, then reaps the child; kills the group at the deadline.
    private static func pump(_ started: Started, output: any OutputSink, deadline: Deadline, killed: Locked<Bool>) -> (Int32, Bool) {
        var open = [started.stdout: OutputStreamKind.stdout, started.stderr: .stderr]
        var buffer = [UInt8](repeating: 0, count: 64 << 10)
        var timedOut = false
        while !open.isEmpty {
            var fds = open.keys.map { pollfd(fd: $0, events: Int16(POLLIN), revents: 0) }
            let remaining = deadline.secondsRemaining
            if remaining <= 0, !timedOut {
                timedOut = true
                kill(-started.pid, SIGKILL)
            }
            let wait = remaining.isFinite ? Int32(max(0, min(remaining * 1000 + 1, 1000))) : 1000
            _ = poll(&fds, nfds_t(fds.count), wait)
            for entry in fds where entry.revents != 0 {
                let n = buffer.withUnsafeMutableBytes { read(entry.fd, $0.baseAddress, $0.count) }
                if n > 0 {
                    buffer.withUnsafeBytes { output.write(UnsafeRawBufferPointer(rebasing: $0[0..<n]), to: open[entry.fd]!) }
                } else if n == 0 || errno != EINTR {
                    close(entry.fd)
                    open[entry.fd] = nil
                }
            }
        }
        var status: Int32 = 0
        while waitpid(started.pid, &status, 0) < 0, errno == EINTR {}
        return (status, timedOut && !killed.withLock { $0 })
    }
}

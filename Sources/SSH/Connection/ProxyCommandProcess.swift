import Dispatch
import Foundation
import Glibc
import Platform

/// A `ProxyCommand` run for one connection. The command's stdin and stdout
/// are one end of a socket pair and the connection's socket is the other, so
/// the session speaks SSH over it like over TCP, non-blocking on its loop. As
/// ssh does, the command runs under `/bin/sh -c "exec …"`; it gets a process
/// group of its own, which is killed when the connection ends.
final class ProxyCommandProcess: @unchecked Sendable {
    let command: String
    let pid: pid_t
    /// The read end of the command's stderr, drained on the loop so the command
    /// never blocks on it; the last bytes are kept for saying why it failed.
    private let errorOutput: Int32
    private let loop: EventLoop
    private var errorTail: [UInt8] = []
    private var terminated = false

    /// Stderr bytes kept: enough for the last lines.
    private static let errorTailLimit = 4096

    private init(command: String, pid: pid_t, errorOutput: Int32, loop: EventLoop) {
        self.command = command
        self.pid = pid
        self.errorOutput = errorOutput
        self.loop = loop
        loop.watch(errorOutput, interest: .readable) { [unowned self] _ in drainErrorOutput() }
    }

    deinit {
        terminate()
        close(errorOutput)
    }

    /// Starts `command`; returns it and the connection's end of the socket pair.
    /// Call on `loop`, which watches the command's stderr.
    static func start(_ command: String, on loop: EventLoop) throws -> (ProxyCommandProcess, socket: Int32) {
        var pair: [Int32] = [-1, -1]
        guard socketpair(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0, &pair) == 0 else {
            throw SSHError(.unreachable, phase: .connect, "ProxyCommand: cannot create a socket pair: \(String(cString: strerror(errno)))")
        }
        // Its stderr is a socket pair too: close-on-exec from the start, as a pipe could only be with pipe2.
        var errorPipe: [Int32] = [-1, -1]
        guard socketpair(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0, &errorPipe) == 0 else {
            let error = errno
            pair.forEach { close($0) }
            throw SSHError(.unreachable, phase: .connect, "ProxyCommand: cannot create a socket pair: \(String(cString: strerror(error)))")
        }
        _ = fcntl(errorPipe[0], F_SETFL, fcntl(errorPipe[0], F_GETFL) | O_NONBLOCK)
        defer {
            close(pair[1])
            close(errorPipe[1])
        }
        // The child's end is blocking, as programs expect of their stdin and stdout.
        let pid: pid_t
        do {
            pid = try ProcessSpawn.start(["/bin/sh", "-c", "exec " + command],
                                         stdin: pair[1], stdout: pair[1], stderr: errorPipe[1])
        } catch {
            close(pair[0])
            close(errorPipe[0])
            throw SSHError(.unreachable, phase: .connect, "ProxyCommand: cannot start /bin/sh: \(String(cString: strerror(error.errorNumber)))")
        }
        _ = fcntl(pair[0], F_SETFL, fcntl(pair[0], F_GETFL) | O_NONBLOCK)
        return (ProxyCommandProcess(command: command, pid: pid, errorOutput: errorPipe[0], loop: loop), pair[0])
    }

    /// The last line the command wrote to stderr so far, if any.
    func lastErrorLine() -> String? {
        drainErrorOutput()
        let lines = String(decoding: errorTail, as: UTF8.self).split(whereSeparator: \.isNewline)
        return lines.last.map { $0.trimmingCharacters(in: .whitespaces) }.flatMap { $0.isEmpty ? nil : $0 }
    }

    /// Reads what stderr holds, keeping the last `errorTailLimit` bytes; stops
    /// watching once the command closed it.
    private func drainErrorOutput() {
        guard !terminated else { return }
        var chunk = [UInt8](repeating: 0, count: 4096)
        while true {
            let n = chunk.withUnsafeMutableBytes { read(errorOutput, $0.baseAddress, $0.count) }
            if n > 0 {
                errorTail += chunk[..<n]
                if errorTail.count > Self.errorTailLimit { errorTail.removeFirst(errorTail.count - Self.errorTailLimit) }
                continue
            }
            if n == 0 || (errno != EAGAIN && errno != EINTR) { loop.unwatch(errorOutput) }
            if n < 0, errno == EINTR { continue }
            return
        }
    }

    /// Kills the command's process group and reaps it off the loop.
    func terminate() {
        guard !terminated else { return }
        drainErrorOutput()
        terminated = true
        loop.unwatch(errorOutput)
        kill(-pid, SIGKILL)
        let pid = self.pid
        DispatchQueue.global().async {
            var status: Int32 = 0
            while waitpid(pid, &status, 0) < 0, errno == EINTR {}
        }
    }
}

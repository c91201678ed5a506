import Fleet
import Foundation
import Glibc
import Synchronization

/// How a local child process ended.
public struct ChildExit: Sendable, Equatable {
    /// The exit status, or minus the signal number when a signal killed it (as Python reports it).
    public var exitCode: Int
    public var stdout: String
    public var stderr: String
    public var timedOut: Bool
    /// Spill files holding the whole stream once it outgrew the in-memory capture.
    public var stdoutFile: String?
    public var stderrFile: String?
}

/// Runs one program directly (no intermediate shell) in its own process group,
/// draining stdout and stderr through bounded captures, with a deadline that
/// kills the whole group.
public enum ChildProcess {
    public struct SpawnError: Error, CustomStringConvertible {
        public var errorNumber: Int32
        public var description: String
        /// The program was not found: TASKER ends the run with exit 20.
        public var isMissingExecutable: Bool { errorNumber == ENOENT }
    }

    /// Bytes kept in memory per stream; beyond this the stream also spills to a file.
    public static let memoryLimit = 1 << 20

    /// Runs `argv` until it exits, `timeout` seconds pass (SIGKILL to the group,
    /// exit 124), or `cancel` is set (SIGTERM, 0.5 s grace, SIGKILL).
    public static func run(_ argv: [String], timeout: Double?, spillDirectory: String,
                           cancel: CancellationFlag = CancellationFlag()) async throws -> ChildExit {
        try await withCheckedThrowingContinuation { continuation in
            let thread = Thread {
                continuation.resume(with: Result { try runBlocking(argv, timeout: timeout, spillDirectory: spillDirectory, cancel: cancel) })
            }
            thread.name = "tasker-child"
            thread.start()
        }
    }

    static func runBlocking(_ argv: [String], timeout: Double?, spillDirectory: String,
                            cancel: CancellationFlag) throws -> ChildExit {
        var stdoutPipe: [Int32] = [0, 0]
        var stderrPipe: [Int32] = [0, 0]
        guard pipe(&stdoutPipe) == 0, pipe(&stderrPipe) == 0 else {
            throw SpawnError(errorNumber: errno, description: "cannot create pipes: \(String(cString: strerror(errno)))")
        }
        for fd in stdoutPipe + stderrPipe { _ = fcntl(fd, F_SETFD, FD_CLOEXEC) }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_adddup2(&actions, stdoutPipe[1], 1)
        posix_spawn_file_actions_adddup2(&actions, stderrPipe[1], 2)
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK))
        posix_spawnattr_setpgroup(&attributes, 0)
        var defaults = sigset_t()
        sigemptyset(&defaults)
        sigaddset(&defaults, SIGINT)
        sigaddset(&defaults, SIGTERM)
        sigaddset(&defaults, SIGPIPE)
        posix_spawnattr_setsigdefault(&attributes, &defaults)
        var emptyMask = sigset_t()
        sigemptyset(&emptyMask)
        posix_spawnattr_setsigmask(&attributes, &emptyMask)

        var pid: pid_t = 0
        let cArguments = argv.map { strdup($0) } + [nil]
        defer { cArguments.forEach { free($0) } }
        let status = posix_spawnp(&pid, argv[0], &actions, &attributes, cArguments, environ)
        close(stdoutPipe[1])
        close(stderrPipe[1])
        guard status == 0 else {
            close(stdoutPipe[0])
            close(stderrPipe[0])
            throw SpawnError(errorNumber: status, description: "[Errno \(status)] \(String(cString: strerror(status))): '\(argv[0])'")
        }

        let captures = [SpilledCapture(kind: "stdout", directory: spillDirectory),
                        SpilledCapture(kind: "stderr", directory: spillDirectory)]
        let deadline = Deadline.after(seconds: timeout)
        var open = [stdoutPipe[0], stderrPipe[0]]
        var timedOut = false
        var exitStatus: Int32?
        var terminateSentAt: Deadline?
        let buffer = UnsafeMutableRawPointer.allocate(byteCount: 65536, alignment: 16)
        defer { buffer.deallocate() }
        var drainDeadline: Deadline?

        while true {
            if exitStatus == nil {
                var raw: Int32 = 0
                if waitpid(pid, &raw, WNOHANG) == pid {
                    exitStatus = raw
                    // Grandchildren may keep the pipes open: drain for at most 5 s more.
                    drainDeadline = .after(seconds: 5)
                }
            }
            if exitStatus != nil, open.allSatisfy({ $0 < 0 }) { break }
            if let drainDeadline, drainDeadline.hasPassed { break }
            if exitStatus == nil {
                if !timedOut, deadline.hasPassed {
                    timedOut = true
                    kill(-pid, SIGKILL)
                }
                if cancel.isSet {
                    if terminateSentAt == nil {
                        terminateSentAt = .now()
                        kill(-pid, SIGTERM)
                    } else if Deadline.milliseconds(since: terminateSentAt!) > 500 {
                        kill(-pid, SIGKILL)
                    }
                }
            }
            var fds = open.map { pollfd(fd: $0, events: Int16(POLLIN), revents: 0) }
            // With both pipes closed only the exit is left to notice: poll the child briefly.
            let ready = poll(&fds, nfds_t(fds.count), open.allSatisfy { $0 < 0 } ? 2 : 100)
            guard ready > 0 else { continue }
            for index in fds.indices where fds[index].fd >= 0 && fds[index].revents != 0 {
                let n = read(fds[index].fd, buffer, 65536)
                if n > 0 {
                    captures[index].append(UnsafeRawBufferPointer(start: buffer, count: n))
                } else if n == 0 || (errno != EINTR && errno != EAGAIN) {
                    close(fds[index].fd)
                    open[index] = -1
                }
            }
        }
        for fd in open where fd >= 0 { close(fd) }
        if exitStatus == nil {
            var raw: Int32 = 0
            waitpid(pid, &raw, 0)
            exitStatus = raw
        }
        let raw = exitStatus!
        var exitCode = (raw & 0x7f) == 0 ? Int((raw >> 8) & 0xff) : -Int(raw & 0x7f)
        var stderr = captures[1].text
        if timedOut {
            exitCode = 124
            stderr += "\nProcess killed after timeout of \(Int(timeout ?? 0)) seconds"
        }
        return ChildExit(exitCode: exitCode, stdout: captures[0].text, stderr: stderr, timedOut: timedOut,
                         stdoutFile: captures[0].finish(), stderrFile: captures[1].finish())
    }
}

/// A flag another thread sets to stop a running child (signals, Ctrl-C).
public final class CancellationFlag: Sendable {
    private let value = Atomic<Bool>(false)
    public init() {}
    public var isSet: Bool { value.load(ordering: .acquiring) }
    public func set() { value.store(true, ordering: .releasing) }
}

/// One stream of a local child: the shared bounded buffer keeps the first
/// 1 MiB (and the last 64 KiB); once the stream outgrows that, everything is
/// also written to a spill file for `@N_stdout_file@` and the 100 KiB placeholder.
final class SpilledCapture: @unchecked Sendable {
    private var buffer = BoundedBuffer(headLimit: ChildProcess.memoryLimit, tailLimit: 64 << 10)
    private var pending: [UInt8] = []
    private var spill: FileHandle?
    private var spillPath: String?
    private let kind: String
    private let directory: String

    init(kind: String, directory: String) {
        self.kind = kind
        self.directory = directory
    }

    func append(_ bytes: UnsafeRawBufferPointer) {
        buffer.append(bytes)
        if spill == nil, buffer.totalBytes <= UInt64(ChildProcess.memoryLimit) {
            pending.append(contentsOf: bytes)
            return
        }
        if spill == nil { openSpill() }
        try? spill?.write(contentsOf: Data(bytes))
    }

    private func openSpill() {
        let path = "\(directory)/tasker_\(kind)_\(UUID().uuidString.prefix(8))"
        guard FileManager.default.createFile(atPath: path, contents: Data(pending)),
              let handle = FileHandle(forWritingAtPath: path) else { return }
        handle.seekToEndOfFile()
        spill = handle
        spillPath = path
        pending = []
    }

    /// The captured text with universal newlines, as TASKER reads child output.
    var text: String {
        buffer.text.replacingOccurrences(of: "\r\n", with: "\n").replacingOccurrences(of: "\r", with: "\n")
    }

    func finish() -> String? {
        try? spill?.close()
        spill = nil
        return spillPath
    }
}

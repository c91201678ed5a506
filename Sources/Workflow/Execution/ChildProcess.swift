import CSystem
import Fleet
import Foundation
import Glibc
import SSH

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
    /// exit 124), or the calling task is cancelled (SIGTERM, 0.5 s grace, SIGKILL). One monitor
    /// thread watches every running child, however many blocks run at once.
    /// `environment` replaces Tasker's own when given.
    public static func run(_ argv: [String], environment: [String: String]? = nil, timeout: Double?,
                           spillDirectory: String) async throws -> CommandExit {
        let (pid, fds) = try spawn(argv, environment: environment)
        return await ProcessMonitor.shared.watch(pid: pid, fds: fds, timeout: timeout, spillDirectory: spillDirectory)
    }

    /// Starts `argv` in its own process group with stdout and stderr on pipes.
    static func spawn(_ argv: [String], environment: [String: String]? = nil) throws -> (pid: pid_t, fds: [Int32]) {
        // Close-on-exec from the start: a child spawned by another thread meanwhile must not inherit them.
        var stdoutPipe: [Int32] = [-1, -1]
        var stderrPipe: [Int32] = [-1, -1]
        guard tasker_pipe2(&stdoutPipe, O_CLOEXEC) == 0 else {
            throw SpawnError(errorNumber: errno, description: "cannot create pipes: \(String(cString: strerror(errno)))")
        }
        guard tasker_pipe2(&stderrPipe, O_CLOEXEC) == 0 else {
            let error = errno
            stdoutPipe.forEach { close($0) }
            throw SpawnError(errorNumber: error, description: "cannot create pipes: \(String(cString: strerror(error)))")
        }
        defer {
            close(stdoutPipe[1])
            close(stderrPipe[1])
        }
        do {
            let pid = try ProcessSpawn.start(argv, environment: environment, stdout: stdoutPipe[1], stderr: stderrPipe[1])
            // The monitor's ends are non-blocking (the child's stay blocking, as programs expect).
            for fd in [stdoutPipe[0], stderrPipe[0]] { _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK) }
            return (pid, [stdoutPipe[0], stderrPipe[0]])
        } catch let failure as ProcessSpawn.Failure {
            close(stdoutPipe[0])
            close(stderrPipe[0])
            let status = failure.errorNumber
            throw SpawnError(errorNumber: status, description: "[Errno \(status)] \(String(cString: strerror(status))): '\(argv[0])'")
        }
    }
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

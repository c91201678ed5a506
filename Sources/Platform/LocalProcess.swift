import Dispatch
import Glibc
import Locking

/// The one way Tasker runs a local program to its end — workflow tasks, hosts with
/// `ansible_connection=local`, inventory scripts, askpass, `Match exec`: spawned by
/// `ProcessSpawn` in a process group of its own, its stdout and stderr drained by
/// the one monitor thread into an `OutputSink`, the whole group killed at the
/// deadline (SIGKILL) or when the waiting task is cancelled (SIGTERM, 0.5 s, SIGKILL).
public enum LocalProcess {
    /// What the program's standard input is.
    public enum Input: Sendable {
        /// /dev/null: the program cannot wait for a terminal.
        case null
        /// Tasker's own standard input.
        case inherited
    }

    /// Where the program's standard error goes.
    public enum ErrorOutput: Sendable {
        /// Drained into the sink as `.stderr`.
        case captured
        /// Tasker's own standard error (askpass shows its messages there).
        case inherited
    }

    /// How the program ended.
    public struct Ending: Sendable, Equatable {
        /// waitpid's status.
        public var waitStatus: Int32
        /// Killed at its deadline.
        public var timedOut: Bool
        /// The waiting task was cancelled, so the program was told to stop.
        public var stopped: Bool

        /// The exit code, nil when a signal ended it.
        public var exitCode: Int32? { waitStatus & 0x7f == 0 ? (waitStatus >> 8) & 0xff : nil }
        /// The signal that ended it.
        public var signal: Int32? { waitStatus & 0x7f == 0 ? nil : waitStatus & 0x7f }
        /// The exit code, or minus the signal number (as Python's subprocess reports it).
        public var status: Int { Int(exitCode ?? -(signal ?? 0)) }
    }

    /// Runs `argv` (looked up on PATH) to its end; `environment` replaces Tasker's own when given.
    /// Cancelling the calling task stops the program. Throws only when it cannot start.
    public static func run(_ argv: [String], environment: [String: String]? = nil, input: Input = .null,
                           errors: ErrorOutput = .captured, timeout: Double?, output: any OutputSink) async throws(ProcessSpawn.Failure) -> Ending {
        let started = try start(argv, environment: environment, input: input, errors: errors)
        let watched = Locked<ProcessMonitor.Child?>(nil)
        return await withTaskCancellationHandler {
            await withCheckedContinuation { continuation in
                let child = ProcessMonitor.Child(pid: started.pid, fds: started.fds, output: output, timeout: timeout) {
                    continuation.resume(returning: $0)
                }
                let cancelled = watched.withLock { slot in
                    slot = child
                    return Task.isCancelled
                }
                ProcessMonitor.shared.watch(child)
                if cancelled { ProcessMonitor.shared.stop(child) }
            }
        } onCancel: {
            if let child = watched.withLock({ $0 }) { ProcessMonitor.shared.stop(child) }
        }
    }

    /// What a program printed, kept up to a limit per stream.
    public struct Collected: Sendable {
        public var ending: Ending
        public var stdout: [UInt8]
        public var stderr: [UInt8]
        /// A stream printed more than the limit; the rest was dropped.
        public var truncated: Bool
    }

    /// For callers that cannot await (inventory loading, ssh_config matching, askpass): blocks the
    /// calling thread until the program ends, keeping at most `limit` bytes of each stream.
    public static func runBlocking(_ argv: [String], environment: [String: String]? = nil, input: Input = .null,
                                   errors: ErrorOutput = .captured, timeout: Double?, limit: Int) throws(ProcessSpawn.Failure) -> Collected {
        let started = try start(argv, environment: environment, input: input, errors: errors)
        let collector = CollectingSink(limit: limit)
        let ending = Locked<Ending?>(nil)
        let done = DispatchSemaphore(value: 0)
        ProcessMonitor.shared.watch(ProcessMonitor.Child(pid: started.pid, fds: started.fds, output: collector, timeout: timeout) { result in
            ending.withLock { $0 = result }
            done.signal()
        })
        done.wait()
        let (stdout, stderr, truncated) = collector.take()
        return Collected(ending: ending.withLock { $0! }, stdout: stdout, stderr: stderr, truncated: truncated)
    }

    private struct Started {
        var pid: pid_t
        /// The parent's (non-blocking) ends: stdout, then stderr or -1 when it is inherited.
        var fds: [Int32]
    }

    private static func start(_ argv: [String], environment: [String: String]?, input: Input,
                              errors: ErrorOutput) throws(ProcessSpawn.Failure) -> Started {
        let stdout = try ProcessPipe(nonBlockingRead: true)
        let stderr: ProcessPipe?
        do { stderr = errors == .captured ? try ProcessPipe(nonBlockingRead: true) : nil } catch {
            close(stdout.readEnd)
            close(stdout.writeEnd)
            throw error
        }
        let null = input == .null ? open("/dev/null", O_RDONLY | O_CLOEXEC) : -1
        // The child's ends belong to the child alone once it started (or failed to).
        defer {
            close(stdout.writeEnd)
            if let stderr { close(stderr.writeEnd) }
            if null >= 0 { close(null) }
        }
        do {
            let pid = try ProcessSpawn.start(argv, environment: environment, stdin: null >= 0 ? null : nil, stdout: stdout.writeEnd,
                                             stderr: stderr?.writeEnd ?? 2)
            return Started(pid: pid, fds: [stdout.readEnd, stderr?.readEnd ?? -1])
        } catch {
            close(stdout.readEnd)
            if let stderr { close(stderr.readEnd) }
            throw error
        }
    }
}

/// Keeps the first `limit` bytes of each stream (written on the monitor thread, taken after the end).
private final class CollectingSink: OutputSink {
    private struct Streams {
        var stdout: [UInt8] = []
        var stderr: [UInt8] = []
        var truncated = false
    }

    private let limit: Int
    private let streams = Locked(Streams())

    init(limit: Int) {
        self.limit = limit
    }

    func write(_ bytes: UnsafeRawBufferPointer, to stream: OutputStreamKind) {
        streams.withLock { streams in
            let room = limit - (stream == .stdout ? streams.stdout.count : streams.stderr.count)
            if bytes.count > room { streams.truncated = true }
            let kept = UnsafeRawBufferPointer(rebasing: bytes.prefix(max(0, room)))
            if stream == .stdout { streams.stdout.append(contentsOf: kept) } else { streams.stderr.append(contentsOf: kept) }
        }
    }

    func take() -> (stdout: [UInt8], stderr: [UInt8], truncated: Bool) {
        streams.withLock { streams in
            defer { streams = Streams() }
            return (streams.stdout, streams.stderr, streams.truncated)
        }
    }
}

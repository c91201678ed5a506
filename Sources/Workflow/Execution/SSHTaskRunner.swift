import Fleet
import Foundation

/// `exec=ssh`: runs a task's command on its `hostname` over Tasker's pooled
/// SSH connections (one connection per host for the whole run).
public final class SSHTaskRunner: Sendable {
    let runner: FleetRunner
    let resolver: ConnectionResolver

    public init(resolver: ConnectionResolver, pool: ConnectionPool = ConnectionPool()) {
        self.resolver = resolver
        runner = FleetRunner(pool: pool)
    }

    public var pool: ConnectionPool { runner.pool }

    /// The argv words quoted for the remote user's shell.
    public static func commandLine(_ argv: [String]) -> String {
        argv.map { word in
            let safe = !word.isEmpty && word.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || "-_./=:,+@%".contains($0)) }
            return safe ? word : "'" + word.replacingOccurrences(of: "'", with: "'\\''") + "'"
        }.joined(separator: " ")
    }

    /// Runs `commandLine` on `host`; connection problems come back as exit 255 with the reason in stderr.
    public func run(host: String, commandLine: String, timeout: Double?, cancel: CancellationFlag) async -> ChildExit {
        let spec: ConnectionSpec
        do {
            spec = try resolver.resolve(HostTarget(parsing: host))
        } catch {
            return ChildExit(exitCode: 255, stdout: "", stderr: "invalid host '\(host)': \(error)", timedOut: false)
        }
        let options = FleetRunOptions(commandTimeout: timeout,
                                      capture: CaptureOptions(headBytes: ChildProcess.memoryLimit, tailBytes: 64 << 10))
        let work = Task { await runner.runHost(spec, commands: [commandLine], options: options) }
        let watcher = Task {
            while !Task.isCancelled {
                if cancel.isSet {
                    work.cancel()
                    return
                }
                try? await Task.sleep(for: .milliseconds(100))
            }
        }
        let result = await work.value
        watcher.cancel()
        switch result.status {
        case .ok, .failed:
            let code = result.signal.map { -(Self.signalNumbers[$0] ?? 1) } ?? Int(result.exitCode ?? 255)
            return ChildExit(exitCode: code, stdout: result.stdout.text, stderr: result.stderr.text, timedOut: false)
        case .timeout:
            return ChildExit(exitCode: 124, stdout: result.stdout.text,
                             stderr: result.stderr.text + "\nProcess killed after timeout of \(Int(timeout ?? 0)) seconds", timedOut: true)
        default:
            return ChildExit(exitCode: 255, stdout: result.stdout.text,
                             stderr: "\(result.status.rawValue): \(result.error ?? "connection failed")", timedOut: false)
        }
    }

    static let signalNumbers = ["HUP": 1, "INT": 2, "QUIT": 3, "KILL": 9, "SEGV": 11, "PIPE": 13, "ALRM": 14, "TERM": 15]
}

import Foundation
import Platform
import TextFormats

/// What `tasker script` runs: a local script, uploaded to each host.
public struct ScriptRequest: Sendable {
    public var localPath: String
    public var arguments: [String]
    /// Runs the script (e.g. `python3 -u`) instead of its `#!` line.
    public var interpreter: String?

    public init(localPath: String, arguments: [String] = [], interpreter: String? = nil) {
        self.localPath = localPath
        self.arguments = arguments
        self.interpreter = interpreter
    }
}

/// Runs a local script on every host: uploaded over SFTP into a private
/// temporary directory (`mktemp -d`, mode 0700), run as `exec` runs a command
/// (live output, bounded capture, a timeout that kills its process group),
/// and removed afterwards whatever happened: exit, failure, timeout, Ctrl-C.
public final class ScriptRun: HostJob {
    public let request: ScriptRequest
    private let script: [UInt8]
    /// Scripts are read into memory once; anything larger belongs to `push`.
    static let maximumSize = 16 << 20

    public init(_ request: ScriptRequest) throws {
        self.request = request
        guard let data = FileManager.default.contents(atPath: request.localPath) else {
            throw FleetError.badInput("cannot read script \(request.localPath)")
        }
        guard data.count <= Self.maximumSize else {
            throw FleetError.badInput("script \(request.localPath) is larger than 16 MiB; push it and run it with exec")
        }
        script = [UInt8](data)
    }

    /// One host's run of the script.
    public func run(on spec: ConnectionSpec, pool: ConnectionPool, options: FleetRunOptions,
                    runDeadline: Deadline, expired: RunDeadlineFlag) async -> HostRecord {
        let started = Deadline.now()
        var result = HostRecord(starting: spec)
        guard let capture = FleetRunner.makeCapture(for: spec, options: options, result: &result) else { return result }
        let name = (request.localPath as NSString).lastPathComponent
        let events = HostEvents(spec, options)
        do {
            try await events.withConnection(pool, for: spec, since: started) { connection, connectMilliseconds in
                result.connectMilliseconds = connectMilliseconds
                let setUpDeadline = min(.after(seconds: spec.settings.connectTimeout + 10), runDeadline)
                let sftp = try await connection.openSFTP(deadline: setUpDeadline)
                var directory: RemoteTemporaryDirectory?
                // Another become user than root must be able to read the script: the directory
                // is then traversable (not listable) and the script readable while it runs.
                let sharedWithBecomeUser = spec.become.map { $0.user != "root" && $0.user != spec.settings.user } ?? false
                do {
                    directory = try await RemoteTemporaryDirectory.make(on: connection, prefix: "tasker-script", shared: sharedWithBecomeUser,
                                                                        deadline: setUpDeadline)
                    let path = directory!.path + "/" + name
                    let file = try await connection.sftpOpen(sftp, path, .createExclusive, permissions: sharedWithBecomeUser ? 0o755 : 0o700,
                                                             deadline: setUpDeadline)
                    do {
                        try await connection.sftpWrite(file, script, deadline: setUpDeadline)
                        try await connection.sftpClose(file, deadline: setUpDeadline)
                    } catch {
                        try? await connection.sftpClose(file)
                        throw error
                    }
                    let command = (request.interpreter.map { $0 + " " } ?? "") + ShellWords.join([path] + request.arguments)
                    let deadline = min(Deadline.after(seconds: options.commandTimeout), runDeadline)
                    let exit = try await events.command(0, command, capture: capture) {
                        try await connection.execute(command, become: spec.become, output: capture, deadline: deadline)
                    }
                    result.commandsRun = 1
                    result.exitCode = exit.exitCode
                    result.signal = exit.signal
                    if exit.signal != nil || exit.exitCode != 0 { result.status = .failed }
                } catch {
                    await connection.closeSFTP(sftp)
                    await directory?.remove(on: connection)
                    throw error
                }
                await connection.closeSFTP(sftp)
                await directory?.remove(on: connection)
            }
        } catch {
            result.fail(error, expired: expired,
                        timedOut: options.commandTimeout.map { "script timed out after \($0)s; remote process group killed, script removed" })
        }
        result.take(capture)
        result.runMilliseconds = Deadline.milliseconds(since: started)
        return result
    }
}

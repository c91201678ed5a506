import Foundation
import Glibc

/// A real ssh-agent on a socket of its own, run in the foreground (`-D`) so it
/// never outlives the test; killed by `stop()` or when released.
public final class TestAgent: @unchecked Sendable {
    public let socket: String
    private let process = Process()

    public init(directory: String, environment: [String: String]? = nil) throws {
        socket = directory + "/agent-\(UUID().uuidString.prefix(8)).sock"
        process.executableURL = URL(fileURLWithPath: "/usr/bin/ssh-agent")
        process.arguments = ["-D", "-a", socket]
        if let environment { process.environment = environment }
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        guard try waitUntil(seconds: 5, { FileManager.default.fileExists(atPath: socket) }) else {
            stop()
            throw TestFleetError(message: "ssh-agent did not create \(socket)")
        }
    }

    deinit { stop() }

    /// `ssh-add` with `options` (e.g. `-c`) and the key files; `environment` adds to the agent socket's.
    public func add(_ keys: [String], options: [String] = [], environment: [String: String] = [:]) throws {
        let result = try ProcessRunner.run("/usr/bin/ssh-add", options + keys, environment: ["SSH_AUTH_SOCK": socket].merging(environment) { $1 })
        guard result.status == 0 else { throw TestFleetError(message: "ssh-add \(keys): \(result.stderr)") }
    }

    public func stop() {
        guard process.isRunning else { return }
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
    }
}

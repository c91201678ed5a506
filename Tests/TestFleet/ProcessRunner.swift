import Foundation

/// Runs a program to completion and captures its output, for tests.
public enum ProcessRunner {
    public struct Result: Sendable {
        public var status: Int32
        public var stdout: String
        public var stderr: String
        public var seconds: Double
    }

    /// Runs `executable` with `arguments`; kills it after `timeout` seconds.
    public static func run(_ executable: String, _ arguments: [String], environment: [String: String]? = nil,
                           workingDirectory: String? = nil, timeout: Double = 120) throws -> Result {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        if let environment { process.environment = environment }
        if let workingDirectory { process.currentDirectoryURL = URL(fileURLWithPath: workingDirectory) }
        let stdoutFile = try TemporaryFile()
        let stderrFile = try TemporaryFile()
        process.standardOutput = stdoutFile.handle
        process.standardError = stderrFile.handle
        process.standardInput = FileHandle.nullDevice
        let started = Date()
        try process.run()
        let deadline = started.addingTimeInterval(timeout)
        while process.isRunning {
            if Date() > deadline {
                process.terminate()
                process.waitUntilExit()
                throw TestFleetError(message: "\(executable) \(arguments.joined(separator: " ")) did not finish within \(timeout)s")
            }
            usleep(5_000)
        }
        return Result(status: process.terminationStatus, stdout: stdoutFile.contents(), stderr: stderrFile.contents(),
                      seconds: Date().timeIntervalSince(started))
    }

    /// Runs a shell snippet with /bin/sh.
    public static func shell(_ script: String, timeout: Double = 60) throws -> Result {
        try run("/bin/sh", ["-c", script], timeout: timeout)
    }
}

/// A file in the temporary directory, removed when the value is released.
public final class TemporaryFile {
    public let path: String
    public let handle: FileHandle

    public init() throws {
        path = NSTemporaryDirectory() + "/tasker-test-\(UUID().uuidString)"
        guard FileManager.default.createFile(atPath: path, contents: nil),
              let handle = FileHandle(forUpdatingAtPath: path) else {
            throw TestFleetError(message: "cannot create \(path)")
        }
        self.handle = handle
    }

    public func contents() -> String {
        (try? String(contentsOfFile: path, encoding: .utf8)) ?? ""
    }

    deinit {
        try? handle.close()
        try? FileManager.default.removeItem(atPath: path)
    }
}

/// A fresh directory for one test, removed when the value is released.
public final class TemporaryDirectory {
    public let path: String

    public init() throws {
        path = NSTemporaryDirectory() + "/tasker-test-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }

    deinit {
        try? FileManager.default.removeItem(atPath: path)
    }
}

/// Processes seen by `pgrep -f`, for tests that check what runs and what was killed.
public enum ProcessTable {
    /// How many processes match `pattern` now.
    public static func count(_ pattern: String) throws -> Int {
        try ProcessRunner.run("/usr/bin/pgrep", ["-f", pattern]).stdout.split(separator: "\n").count
    }

    /// How many processes of `user` have exactly `commandLine` as their command line.
    public static func count(exactly commandLine: String, user: String) throws -> Int {
        try ProcessRunner.run("/usr/bin/pgrep", ["-x", "-f", "-u", user, commandLine]).stdout.split(separator: "\n").count
    }

    /// Waits up to `seconds` until at least `minimum` processes match; returns the last count.
    public static func waitFor(_ pattern: String, atLeast minimum: Int, seconds: Double = 5) throws -> Int {
        let deadline = Date().addingTimeInterval(seconds)
        var seen = try count(pattern)
        while seen < minimum, Date() < deadline {
            usleep(50_000)
            seen = try count(pattern)
        }
        return seen
    }
}

/// Polls `condition` until it holds or `seconds` pass; returns whether it held.
public func waitUntil(seconds: Double, _ condition: () throws -> Bool) throws -> Bool {
    let deadline = Date().addingTimeInterval(seconds)
    while Date() < deadline {
        if try condition() { return true }
        usleep(50_000)
    }
    return try condition()
}

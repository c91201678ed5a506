import Fleet
import Foundation
import Platform

/// A workflow task's local command: run directly (no intermediate shell) by
/// `LocalProcess`, its streams into bounded captures that spill to files,
/// with a deadline that kills the whole process group.
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
    /// exit 124), or the calling task is cancelled (SIGTERM, 0.5 s grace, SIGKILL).
    /// `environment` replaces Tasker's own when given; standard input is Tasker's.
    public static func run(_ argv: [String], environment: [String: String]? = nil, timeout: Double?,
                           spillDirectory: String) async throws -> CommandExit {
        let captures = SpilledCaptures(directory: spillDirectory)
        let ending: LocalProcess.Ending
        do {
            ending = try await LocalProcess.run(argv, environment: environment, input: .inherited, timeout: timeout, output: captures)
        } catch {
            let description = error.step == nil ? "[Errno \(error.errorNumber)] \(String(cString: strerror(error.errorNumber))): '\(argv[0])'"
                : error.description
            throw SpawnError(errorNumber: error.errorNumber, description: description)
        }
        var stderr = captures.stderr.text
        if ending.timedOut { stderr += "\nProcess killed after timeout of \(Int(timeout ?? 0)) seconds" }
        return CommandExit(ending: ending.timedOut ? .timedOut : .exited, status: ending.status, stdout: captures.stdout.text, stderr: stderr,
                           stdoutFile: captures.stdout.finish(), stderrFile: captures.stderr.finish())
    }
}

/// A local child's two streams, written on the process monitor's thread and read once it ended.
final class SpilledCaptures: OutputSink, @unchecked Sendable {
    let stdout: SpilledCapture
    let stderr: SpilledCapture

    init(directory: String) {
        stdout = SpilledCapture(kind: "stdout", directory: directory)
        stderr = SpilledCapture(kind: "stderr", directory: directory)
    }

    func write(_ bytes: UnsafeRawBufferPointer, to stream: OutputStreamKind) {
        (stream == .stdout ? stdout : stderr).append(bytes)
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

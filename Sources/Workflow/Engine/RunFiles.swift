import Fleet
import Foundation
import Glibc
import Platform

/// Files a run leaves under the log directory (§20.3): the task-file backup
/// and the project summary line.
public enum RunFiles {
    /// Copies the task file to `<logdir>/backup/<name>_<timestamp>` unless a backup
    /// with the same prefix and identical content already exists.
    public static func backup(taskFile path: String, contents: [UInt8], logDirectory: String, timestamp: String) throws {
        let directory = "\(logDirectory)/backup"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let base = (path as NSString).lastPathComponent
        let hash = Digest.sha256Hex(contents)
        for existing in (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? [] where existing.hasPrefix(base + "_") {
            if let data = FileManager.default.contents(atPath: "\(directory)/\(existing)"), Digest.sha256Hex([UInt8](data)) == hash { return }
        }
        var target = "\(directory)/\(base)_\(timestamp)"
        var suffix = 1
        while FileManager.default.fileExists(atPath: target) {
            target = "\(directory)/\(base)_\(timestamp).\(suffix)"
            suffix += 1
        }
        try Data(contents).write(to: URL(fileURLWithPath: target))
    }

    /// A name fit for a file name as TASKER makes them: extension dropped,
    /// characters outside `[A-Za-z0-9._-]` replaced by `_`, at most 50 characters.
    public static func safeName(_ text: String) -> String {
        String((text as NSString).deletingPathExtension.map {
            $0.isASCII && ($0.isLetter || $0.isNumber || "._-".contains($0)) ? $0 : "_"
        }.prefix(50))
    }

    public struct SummaryLine: Sendable {
        public var success: Bool
        public var exitCode: Int32
        public var taskFile: String
        public var taskID: Int
        public var hostname: String
        public var command: String
        public var logFile: String

        public init(success: Bool, exitCode: Int32, taskFile: String, taskID: Int, hostname: String, command: String, logFile: String) {
            self.success = success
            self.exitCode = exitCode
            self.taskFile = taskFile
            self.taskID = taskID
            self.hostname = hostname
            self.command = command
            self.logFile = logFile
        }
    }

    /// Appends one tab-separated line to `<logdir>/project/<project>.summary`
    /// (with a header when the file is new), under an exclusive lock.
    public static func appendSummary(_ line: SummaryLine, project: String, logDirectory: String) throws {
        let directory = "\(logDirectory)/project"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let path = "\(directory)/\(safeName(project)).summary"
        let fd = open(path, O_WRONLY | O_CREAT | O_APPEND, 0o644)
        guard fd >= 0 else { throw TaskFileError(exitCode: 1, "cannot open project summary \(path)") }
        defer { close(fd) }
        flock(fd, LOCK_EX)
        defer { flock(fd, LOCK_UN) }
        var text = ""
        if lseek(fd, 0, SEEK_END) == 0 {
            text += "#Timestamp\tStatus\tExit_Code\tTask_File\tTask_ID\tHostname\tCommand\tLog_File\n"
        }
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.dateFormat = "yyyy-MM-dd HH:mm:ss"
        let fields = [formatter.string(from: Date()), line.success ? "SUCCESS" : "FAILURE", String(line.exitCode),
                      (line.taskFile as NSString).lastPathComponent, String(line.taskID), line.hostname, line.command,
                      (line.logFile as NSString).lastPathComponent]
        text += fields.map { $0.replacingOccurrences(of: "\t", with: " ").replacingOccurrences(of: "\n", with: " ") }
            .joined(separator: "\t") + "\n"
        _ = text.withCString { write(fd, $0, strlen($0)) }
    }
}

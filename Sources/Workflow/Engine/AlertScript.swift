import Fleet
import Foundation
import Glibc
import TextFormats

/// `--alert-on-failure SCRIPT`: run on failing exits with the context in TASKER_* variables (§23).
public struct AlertScript: Sendable {
    public let path: String

    /// The script, if it is a regular file (not a symlink); it is made executable for the owner.
    public static func prepare(_ raw: String, log: WorkflowLog) -> AlertScript? {
        let home = ProcessInfo.processInfo.environment["HOME"] ?? NSHomeDirectory()
        var path = raw.hasPrefix("~/") ? home + raw.dropFirst() : raw
        if !path.hasPrefix("/") { path = FileManager.default.currentDirectoryPath + "/" + path }
        var status = stat()
        guard lstat(path, &status) == 0, (status.st_mode & S_IFMT) == S_IFREG else {
            log.warn("Alert script \(path) is missing, a symlink or not a regular file; alerts disabled")
            return nil
        }
        chmod(path, 0o700)
        return AlertScript(path: path)
    }

    public func run(exitCode: Int32, error: String, failedTask: Int?, taskFile: String, logFile: String,
                    stateFile: String, log: WorkflowLog) async {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.dateFormat = "yyyy-MM-dd HH:mm:ss"
        var environment = ProcessInfo.processInfo.environment
        environment["TASKER_EXIT_CODE"] = String(exitCode)
        environment["TASKER_ERROR"] = error
        environment["TASKER_FAILED_TASK"] = failedTask.map(String.init) ?? ""
        environment["TASKER_TASK_FILE"] = taskFile
        environment["TASKER_LOG_FILE"] = logFile
        environment["TASKER_STATE_FILE"] = stateFile
        environment["TASKER_TIMESTAMP"] = formatter.string(from: Date())
        guard let result = try? await ChildProcess.run([path], environment: environment, timeout: 30,
                                                       spillDirectory: NSTemporaryDirectory()) else {
            log.warn("Alert script \(path) could not be started")
            return
        }
        log.info("Alert script \(path) exited with \(result.exitCode)")
        if !result.stdout.isEmpty { log.info("Alert script STDOUT: \(WorkflowLog.oneLine(result.stdout))") }
        if !result.stderr.isEmpty { log.info("Alert script STDERR: \(WorkflowLog.oneLine(result.stderr))") }
    }
}

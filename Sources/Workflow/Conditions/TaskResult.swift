/// What a task left behind for later placeholders and conditions.
public struct TaskResult: Sendable, Equatable {
    public var exitCode: Int
    public var stdout: String
    public var stderr: String
    public var success: Bool
    /// Spill files holding the full streams when they outgrew memory.
    public var stdoutFile: String?
    public var stderrFile: String?

    public init(exitCode: Int, stdout: String, stderr: String, success: Bool,
                stdoutFile: String? = nil, stderrFile: String? = nil) {
        self.exitCode = exitCode
        self.stdout = stdout
        self.stderr = stderr
        self.success = success
        self.stdoutFile = stdoutFile
        self.stderrFile = stderrFile
    }

    /// The record of a task whose `condition` gate was false.
    public static let skipped = TaskResult(exitCode: -1, stdout: "", stderr: "Task skipped due to condition", success: false)
}

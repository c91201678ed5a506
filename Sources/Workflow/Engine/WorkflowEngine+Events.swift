import Fleet

/// What the engine tells the run's event stream: each task, subtask and
/// fan-out host starting and ending, and every routing step. The engine
/// formats nothing for it; the journal and the report read these events.
extension WorkflowEngine {
    func taskStarted(_ task: Int, _ label: String, host: String? = nil, attempt: Int = 1) {
        options.events?.emit(.taskStarted(.init(task: task, label: label, host: host, attempt: attempt)))
    }

    func taskEnded(_ task: Int, _ label: String, host: String? = nil, attempt: Int = 1, status: String, exitCode: Int, success: Bool) {
        options.events?.emit(.taskEnded(.init(task: task, label: label, host: host, attempt: attempt, status: status, exitCode: exitCode,
                                              success: success)))
    }

    func taskEnded(_ task: Int, _ label: String, _ result: TaskResult) {
        taskEnded(task, label, status: result.success ? "ok" : "failed", exitCode: result.exitCode, success: result.success)
    }

    func routed(from task: Int, to next: Int?) {
        options.events?.emit(.routed(.init(from: task, to: next)))
    }
}

extension CommandEnding {
    /// The word a task's ending is reported with: `ok` or `failed` when the command
    /// exited (by its condition), else `timeout`, `cancelled` or why it never ran.
    func statusWord(success: Bool) -> String {
        switch self {
        case .exited: return success ? "ok" : "failed"
        case .timedOut: return "timeout"
        case .cancelled: return "cancelled"
        case .notRun(let status): return status.rawValue
        }
    }
}

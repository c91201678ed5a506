/// Everything a workflow run learns while it runs: the tasks' results (and
/// which of them recovery has not saved yet), subtask attempts, the order
/// tasks were dispatched in, loop counters and the final state that decides
/// the exit code. One actor, so that hosts and subtasks running at the same
/// time may store their results while others still run.
actor EngineState {
    private let globals: [String: String]
    private var results: [Int: TaskResult]
    /// Results stored since recovery last saw them.
    private var unsaved: Set<Int> = []
    private var attempts: [Int: Int] = [:]
    private var order: [Int] = []
    private var loops: [Int: LoopState] = [:]
    private(set) var final = FinalState()

    init(globals: [String: String], restored: [Int: TaskResult]) {
        self.globals = globals
        results = restored
    }

    /// Placeholders resolve against the results stored so far.
    var resolver: PlaceholderResolver { PlaceholderResolver(globals: globals, results: results) }

    func result(of task: Int) -> TaskResult? { results[task] }

    func store(_ task: Int, _ result: TaskResult, attempts count: Int? = nil) {
        results[task] = result
        unsaved.insert(task)
        if let count { attempts[task] = count }
    }

    /// Every result, and the IDs stored since the last call (for recovery).
    func takeUnsaved() -> (results: [Int: TaskResult], changed: Set<Int>) {
        defer { unsaved.removeAll() }
        return (results, unsaved)
    }

    /// A top-level task is being run; consecutive iterations of one loop count once.
    func dispatched(_ task: Int, loopRepeat: Bool) {
        if loopRepeat, order.last == task { return }
        order.append(task)
    }

    func loop(of task: Int) -> LoopState? { loops[task] }

    func setLoop(_ state: LoopState?, of task: Int) { loops[task] = state }

    /// A task or block that ran, with whether it counts as a success after routing.
    func recordFinal(exitCode: Int, success: Bool) { final.record(exitCode: exitCode, success: success) }

    func markStoppedWithNever() { final.lastTaskStoppedWithNever = true }

    func markFailedByCondition() { final.failedByCondition = true }

    /// The run's outcome from what it stored; `.completed` with a non-zero code says why it failed.
    func outcome(_ code: Int32, _ reason: WorkflowOutcome.Reason, finalTask: Int?) -> WorkflowOutcome {
        var reason = reason
        if reason == .completed, code != 0 { reason = code == 10 ? .failedByCondition : .taskFailed }
        return WorkflowOutcome(exitCode: code, executionOrder: order, results: results, reason: reason, finalTask: finalTask,
                               attempts: attempts)
    }
}

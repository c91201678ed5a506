/// Where the run goes after a normal (sequential) task, by TASKER's routing
/// table (§9.4 of the reference).
public enum RouteDecision: Sendable, Equatable {
    /// Continue with this task ID (ID+1 or an `on_success`/`on_failure` jump).
    case task(Int)
    /// Run the same task again (`next=loop`).
    case repeatTask
    /// `next=never`: the run ends successfully, even after a failure.
    case stopSucceeded
    /// The run ends; the task's failure decides the exit code.
    case stopFailed
    /// An `on_success`-only task failed: the run ends with exit 10.
    case stopFailedByCondition
}

/// Loop bookkeeping of a task with `loop=N` and `next=loop`.
public struct LoopState: Sendable, Equatable {
    public var remaining: Int
    /// The iteration about to run (1-based), shown as `ID.iteration` in logs.
    public var iteration: Int

    public init(count: Int) {
        remaining = count
        iteration = 1
    }
}

public enum Routing {
    /// Decides the route after `task` finished with success `ok`.
    /// `evaluate` evaluates a condition (`next`, `loop_break`) against the task's result;
    /// `loop` is the task's loop state, updated in place (nil once the loop is over).
    public static func route(_ task: TaskDefinition, ok: Bool, fireAndForget: Bool,
                             loop: inout LoopState?, evaluate: (String) -> Bool) -> RouteDecision {
        let id = task.id
        let next = task.next
        let onSuccess = task.onSuccess
        let onFailure = task.onFailure
        let shouldContinue: Bool
        switch next {
        case nil:
            if onSuccess != nil, onFailure == nil, !ok { return .stopFailedByCondition }
            shouldContinue = ok || (onSuccess == nil && onFailure == nil && fireAndForget)
        case "never"?:
            return .stopSucceeded
        case "always"?:
            shouldContinue = true
        case "loop"? where task.loop != nil:
            if stepLoop(task, loop: &loop, evaluate: evaluate) { return .repeatTask }
            shouldContinue = true
        case let condition?:
            shouldContinue = evaluate(condition)
        }
        if shouldContinue {
            if let onSuccess {
                // A non-integer target continues at ID+1, as the reference does.
                return .task(PythonSemantics.int(onSuccess) ?? id + 1)
            }
            return .task(id + 1)
        }
        if let onFailure {
            guard let target = PythonSemantics.int(onFailure) else { return .stopFailed }
            return .task(target)
        }
        return .stopFailed
    }

    /// One loop step: true to run again. Iteration failures do not stop a loop;
    /// `loop_break` ends it early; afterwards the task counts as successful.
    static func stepLoop(_ task: TaskDefinition, loop: inout LoopState?, evaluate: (String) -> Bool) -> Bool {
        if loop == nil {
            loop = LoopState(count: PythonSemantics.int(task.loop ?? "") ?? 1)
        }
        loop!.iteration += 1
        if let breakCondition = task.loopBreak, evaluate(breakCondition) {
            loop = nil
            return false
        }
        loop!.remaining -= 1
        if loop!.remaining > 0 { return true }
        loop = nil
        return false
    }
}

/// The state that decides TASKER's exit code when the task loop ends (§9.7).
public struct FinalState: Sendable, Equatable {
    public var tasksExecuted = 0
    public var lastExitCode = 0
    public var lastSuccess = true
    public var failedByCondition = false
    public var lastTaskStoppedWithNever = false

    public init() {}

    /// Records a normal task or block that ran (condition-skipped tasks and decision blocks do not count).
    public mutating func record(exitCode: Int, success: Bool) {
        tasksExecuted += 1
        lastExitCode = exitCode
        lastSuccess = success
    }

    /// The exit code when the loop ended with "stop" (`endedBecauseNextUndefined` false)
    /// or because the next task ID is not defined (true).
    public func exitCode(endedBecauseNextUndefined: Bool) -> Int32 {
        if endedBecauseNextUndefined { return 0 }
        if failedByCondition { return 10 }
        if lastTaskStoppedWithNever { return 0 }
        if tasksExecuted == 0 { return 10 }
        if !lastSuccess || lastExitCode != 0 {
            return lastExitCode == 0 ? 1 : Int32(truncatingIfNeeded: lastExitCode)
        }
        return 0
    }
}

import Fleet
import Foundation

/// The one way a task's command runs, for sequential tasks, block subtasks
/// and each host of a fan-out task: built into a `CommandStep`, started by
/// `launch` (locally or on its host), its output split and its success judged by `finish`. Callers differ
/// only in how they build the command, what they log, and the `Judgement` —
/// which keeps TASKER's documented differences between tasks and subtasks in one place.
extension WorkflowEngine {
    /// How a command's output is split and its success decided.
    struct Judgement: Sendable {
        enum Split: Sendable {
            /// `OutputSplitter.split`: the delimiter keywords and regular expressions of §8.
            case fields
            /// [QUIRK] subtasks split on the literal text before the comma.
            case literal
        }

        enum Condition: Sendable {
            case success(String)
            case failure(String)
            case exitZero
        }

        var split: Split
        var stdoutSplit: String?
        var stderrSplit: String?
        var condition: Condition
        /// A command that did not end on its own on its host (not reached, timed out, interrupted)
        /// fails without its condition being asked (fan-out hosts).
        var hostProblemsFail = false
    }

    /// A command that ran: how it ended, its streams after splitting, and the verdict.
    struct CommandRun: Sendable {
        var exit: CommandExit
        var stdout: String
        var stderr: String
        /// Spill files of the streams, dropped when splitting changed the text.
        var stdoutFile: String?
        var stderrFile: String?
        var success: Bool
    }

    /// Splits an ended command's output and judges it (also for a dry run's stand-in output).
    func finish(_ exit: CommandExit, judgement: Judgement, resolver: PlaceholderResolver) -> CommandRun {
        func split(_ text: String, _ spec: String?) -> String? {
            guard let spec else { return nil }
            return judgement.split == .fields ? OutputSplitter.split(text, spec: spec) : OutputSplitter.splitLiterally(text, spec: spec)
        }
        var run = CommandRun(exit: exit, stdout: exit.stdout, stderr: exit.stderr, stdoutFile: exit.stdoutFile, stderrFile: exit.stderrFile,
                             success: false)
        if let stdout = split(run.stdout, judgement.stdoutSplit) {
            if stdout != run.stdout { run.stdoutFile = nil }
            run.stdout = stdout
        }
        if let stderr = split(run.stderr, judgement.stderrSplit) {
            if stderr != run.stderr { run.stderrFile = nil }
            run.stderr = stderr
        }
        run.success = judge(run, judgement, resolver: resolver)
        return run
    }

    /// The verdict on a command's (split) output.
    private func judge(_ run: CommandRun, _ judgement: Judgement, resolver: PlaceholderResolver) -> Bool {
        if judgement.hostProblemsFail, run.exit.hostProblem != nil { return false }
        let context = ConditionContext(exitCode: run.exit.exitCode, stdout: run.stdout, stderr: run.stderr)
        switch judgement.condition {
        case .success(let condition): return Condition.evaluate(condition, context: context, resolver: resolver)
        case .failure(let condition): return !Condition.evaluate(condition, context: context, resolver: resolver)
        case .exitZero: return run.exit.exitCode == 0
        }
    }

    /// The task's own become fields, resolved; an invalid one is the task's error.
    func taskBecome(_ task: TaskDefinition, display: String, resolver: PlaceholderResolver) throws -> TaskBecome? {
        do {
            return try TaskBecome.of(task, resolver: resolver)
        } catch let error as TaskFileError {
            throw TaskFileError(exitCode: error.exitCode, "Task \(display): \(error.message)")
        }
    }

    /// The policy a block or fan-out task retries failed commands with (`retry_count`, `retry_delay`).
    struct RetryPolicy: Sendable {
        var count: Int
        var delay: Int
    }

    /// Runs `attempt` (numbered from 1) until it succeeds, `isFinal` says a failure
    /// must not be retried, the run is interrupted, or `policy.count` retries are
    /// spent; `retrying` sees each failure that will be retried, before the delay.
    func withRetries<Result>(_ policy: RetryPolicy, succeeded: (Result) -> Bool, isFinal: (Result) -> Bool,
                             retrying: (_ attempt: Int, Result) -> Void,
                             attempt: (Int) async -> Result) async -> (result: Result, attempts: Int) {
        var number = 1
        while true {
            let result = await attempt(number)
            if succeeded(result) || isFinal(result) || Task.isCancelled || number > policy.count { return (result, number) }
            retrying(number, result)
            if options.execute, policy.delay > 0 { await interruptibleSleep(Double(policy.delay)) }
            number += 1
        }
    }
}

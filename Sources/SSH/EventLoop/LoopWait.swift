import Platform
/// One suspended task on an event loop, resumed exactly once by whichever
/// comes first: its event, its deadline (a loop timer) or a cancellation.
/// Loop-confined: arm and finish it only on its loop's thread.
final class LoopWait: @unchecked Sendable {
    let loop: EventLoop
    private var continuation: CheckedContinuation<SocketWatcher.Outcome, Never>?
    private var timer: UInt64?
    /// The first outcome, when it came before the waiter was armed.
    private var early: SocketWatcher.Outcome?

    init(loop: EventLoop) {
        self.loop = loop
    }

    func arm(_ continuation: CheckedContinuation<SocketWatcher.Outcome, Never>, deadline: Deadline) {
        precondition(loop.inLoop, "LoopWait used off its loop")
        if let early {
            continuation.resume(returning: early)
            return
        }
        self.continuation = continuation
        if deadline != .distantFuture {
            timer = loop.scheduleTimer(at: deadline) { [self] in finish(.timedOut) }
        }
    }

    func finish(_ outcome: SocketWatcher.Outcome) {
        precondition(loop.inLoop, "LoopWait used off its loop")
        guard let continuation else {
            if early == nil { early = outcome }
            return
        }
        self.continuation = nil
        if let timer { loop.cancelTimer(timer) }
        continuation.resume(returning: outcome)
    }
}

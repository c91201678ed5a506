import Locking

/// A continuation that several parties race to resume (a worker's result, a
/// deadline, a cancellation); the first one wins and the others are ignored.
final class ResumeOnce<Value: Sendable>: Sendable {
    private let continuation: Locked<CheckedContinuation<Value, any Error>?>

    init(_ continuation: CheckedContinuation<Value, any Error>) {
        self.continuation = Locked(continuation)
    }

    func resume(with result: Result<Value, any Error>) {
        continuation.withLock { $0.take() }?.resume(with: result)
    }

    func resume(throwing error: any Error) {
        resume(with: .failure(error))
    }
}

/// Runs `start` with a `ResumeOnce` and returns whichever result reaches it first;
/// `onCancel` gets the same object when the calling task is cancelled.
func firstOutcome<Value: Sendable>(
    _ start: (ResumeOnce<Value>) -> Void, onCancel: @escaping @Sendable (ResumeOnce<Value>) -> Void
) async throws -> Value {
    let box = ResumeOnceBox<Value>()
    return try await withTaskCancellationHandler {
        try await withCheckedThrowingContinuation { continuation in
            let once = ResumeOnce(continuation)
            box.set(once)
            start(once)
        }
    } onCancel: {
        box.whenSet(onCancel)
    }
}

/// Hands a `ResumeOnce` to a cancellation handler that may run before the continuation exists.
private final class ResumeOnceBox<Value: Sendable>: Sendable {
    private struct State {
        var once: ResumeOnce<Value>?
        var cancelled: (@Sendable (ResumeOnce<Value>) -> Void)?
    }
    private let state = Locked(State())

    func set(_ once: ResumeOnce<Value>) {
        let pending = state.withLock { state -> (@Sendable (ResumeOnce<Value>) -> Void)? in
            state.once = once
            return state.cancelled
        }
        pending?(once)
    }

    func whenSet(_ handler: @escaping @Sendable (ResumeOnce<Value>) -> Void) {
        let once = state.withLock { state -> ResumeOnce<Value>? in
            if state.once == nil { state.cancelled = handler }
            return state.once
        }
        if let once { handler(once) }
    }
}

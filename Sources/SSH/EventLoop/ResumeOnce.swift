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

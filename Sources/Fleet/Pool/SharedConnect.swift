import SSH
import Locking

/// One connection attempt that several callers may wait for. A caller that is
/// cancelled stops waiting at once and leaves the attempt running for the
/// others; the attempt itself is cancelled only when nobody waits for it any more.
final class SharedConnect: Sendable {
    private struct State {
        var result: Result<SSHConnection, any Error>?
        var waiters: [UInt64: CheckedContinuation<SSHConnection, any Error>] = [:]
        /// Waiters whose cancellation arrived before they were registered.
        var cancelledEarly: Set<UInt64> = []
        var nextID: UInt64 = 0
        var task: Task<Void, Never>?
    }

    private let state = Locked(State())

    init(_ connect: @escaping @Sendable () async throws -> SSHConnection) {
        let task = Task { [self] in
            let result: Result<SSHConnection, any Error>
            do { result = .success(try await connect()) } catch { result = .failure(error) }
            let waiters = self.state.withLock { state in
                state.result = result
                defer { state.waiters.removeAll() }
                return Array(state.waiters.values)
            }
            for waiter in waiters { waiter.resume(with: result) }
        }
        state.withLock { $0.task = task }
    }

    /// The outcome, once known; nil while connecting.
    var result: Result<SSHConnection, any Error>? { state.withLock { $0.result } }

    func value() async throws -> SSHConnection {
        let id = state.withLock { state -> UInt64 in
            state.nextID += 1
            return state.nextID
        }
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { continuation in
                let ready = state.withLock { state -> Result<SSHConnection, any Error>? in
                    if let result = state.result { return result }
                    if state.cancelledEarly.remove(id) != nil { return .failure(Self.cancelled) }
                    state.waiters[id] = continuation
                    return nil
                }
                if let ready { continuation.resume(with: ready) }
            }
        } onCancel: {
            let (waiter, abandon) = state.withLock { state -> (CheckedContinuation<SSHConnection, any Error>?, Task<Void, Never>?) in
                guard state.result == nil else { return (nil, nil) }
                guard let waiter = state.waiters.removeValue(forKey: id) else {
                    state.cancelledEarly.insert(id)
                    return (nil, nil)
                }
                return (waiter, state.waiters.isEmpty ? state.task : nil)
            }
            waiter?.resume(throwing: Self.cancelled)
            abandon?.cancel()
        }
    }

    private static let cancelled = SSHError(.cancelled, phase: .connect, "cancelled")
}

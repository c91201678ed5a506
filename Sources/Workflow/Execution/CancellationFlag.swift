import Locking
import Synchronization

/// A flag another thread sets to stop running work (signals, Ctrl-C). Local
/// children poll it; remote commands register a handler that cancels them.
public final class CancellationFlag: Sendable {
    private struct State {
        var isSet = false
        var handlers: [Int: @Sendable () -> Void] = [:]
        var nextToken = 0
    }

    private let value = Atomic<Bool>(false)
    private let state = Locked(State())

    public init() {}

    public var isSet: Bool { value.load(ordering: .acquiring) }

    public func set() {
        let handlers = state.withLock { state -> [@Sendable () -> Void] in
            guard !state.isSet else { return [] }
            state.isSet = true
            value.store(true, ordering: .releasing)
            defer { state.handlers.removeAll() }
            return Array(state.handlers.values)
        }
        for handler in handlers { handler() }
    }

    /// Runs `work` with `onSet` called if the flag is set meanwhile (at once if it already is).
    public func whileWatching<T: Sendable>(onSet: @escaping @Sendable () -> Void,
                                           _ work: () async -> T) async -> T {
        let token = state.withLock { state -> Int? in
            guard !state.isSet else { return nil }
            state.nextToken += 1
            state.handlers[state.nextToken] = onSet
            return state.nextToken
        }
        if token == nil { onSet() }
        defer { if let token { _ = state.withLock { $0.handlers.removeValue(forKey: token) } } }
        return await work()
    }
}

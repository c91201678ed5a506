import Locking
import Platform
import SSH

/// One authenticated connection per host, opened on first use and shared by
/// every later command to that host. Handshakes are admission-controlled so a
/// large fleet does not trip sshd's MaxStartups, and the number of open
/// connections stays within what the open-file limit allows: when it is
/// reached, the connection idle the longest is closed to make room, or the
/// caller waits until one is no longer in use.
public final class ConnectionPool: Sendable {
    public struct Statistics: Sendable, Equatable {
        public var connectionsOpened = 0
        /// Connections opened for a host whose earlier connection broke or was closed.
        public var reconnects = 0
        /// Connections opened to jump hosts (not counted in `connectionsOpened`).
        public var jumpHostConnectionsOpened = 0
        /// Uses refused at once because their host was backing off after failed attempts.
        public var refusedWhileBackingOff = 0
    }

    /// What a host's next use does after its connection attempt failed.
    public enum FailurePolicy: Sendable, Equatable {
        /// Fail at once with the same error for the rest of the pool's life (one-shot fan-outs).
        case remember
        /// Try again at the next use (workflows, whose later steps and retries may come minutes later).
        case retryOnNextUse
        /// Fail at once until a delay that doubles with each consecutive failure has passed, then
        /// try again (long-lived sessions); a success starts the count again.
        case backOff(Backoff)
    }

    /// 1, 2, 4 … seconds after the first, second, third … consecutive failure, at most `maximum`.
    public struct Backoff: Sendable, Equatable {
        public var initial: Double
        public var maximum: Double

        public init(initial: Double = 1, maximum: Double = 60) {
            self.initial = initial
            self.maximum = max(initial, maximum)
        }

        public func delay(afterFailures failures: Int) -> Double {
            min(maximum, initial * Double(1 << min(max(0, failures - 1), 30)))
        }
    }

    public struct Options: Sendable {
        /// SSH handshakes in flight at once.
        public var maxConcurrentHandshakes = 50
        public var failurePolicy = FailurePolicy.remember
        /// Keep a connection open after its last user is done (workflows reuse it
        /// in later steps); without it, a host's connection closes when its work ends.
        public var keepsIdleConnections = true
        /// Connections open at once (each holds a socket).
        public var maxOpenConnections = Int.max
        /// Target sessions one jump host connection carries before another
        /// connection to that jump host is opened.
        public var tunnelsPerJumpHostConnection = 16
        /// Connections to one jump host; beyond them, targets wait for a tunnel to close.
        public var connectionsPerJumpHost = 8

        public init(maxConcurrentHandshakes: Int = 50, failurePolicy: FailurePolicy = .remember,
                    keepsIdleConnections: Bool = true, maxOpenConnections: Int = .max,
                    tunnelsPerJumpHostConnection: Int = 16, connectionsPerJumpHost: Int = 8) {
            self.maxConcurrentHandshakes = maxConcurrentHandshakes
            self.failurePolicy = failurePolicy
            self.keepsIdleConnections = keepsIdleConnections
            self.maxOpenConnections = max(1, maxOpenConnections)
            self.tunnelsPerJumpHostConnection = max(1, tunnelsPerJumpHostConnection)
            self.connectionsPerJumpHost = max(1, connectionsPerJumpHost)
        }
    }

    /// One host's place in the pool.
    private struct Entry {
        enum State {
            /// No connection: never opened, closed, evicted, or a failure forgotten.
            case closed
            /// An attempt in flight, which every user of the host waits for.
            case connecting(SharedConnect)
            /// Connected (the attempt holds the connection).
            case ready(SharedConnect)
            /// A remembered failure (`FailurePolicy.remember`): later users get its error at once. Holds no socket.
            case failed(SharedConnect, since: Deadline)
            /// Failed `failures` times in a row; refused at once until `until`, then tried again. Holds no socket.
            case backingOff(until: Deadline, error: any Error)
        }

        var state = State.closed
        var users = 0
        /// When the last user left, for choosing which idle connection to close.
        var idleSince: UInt64 = 0
        /// Consecutive failed attempts (reset by a success).
        var failures = 0
        /// The host had a connection before: opening another is a reconnect.
        var wasConnected = false

        /// The attempt users wait for: connecting, connected or a remembered failure.
        var attempt: SharedConnect? {
            switch state {
            case .connecting(let attempt), .ready(let attempt), .failed(let attempt, _): return attempt
            case .closed, .backingOff: return nil
            }
        }

        /// The connection, when connected.
        var connection: SSHConnection? {
            guard case .ready(let attempt) = state, case .success(let connection)? = attempt.result else { return nil }
            return connection
        }
    }

    private struct State {
        var entries: [String: Entry] = [:]
        var open = 0
        var statistics = Statistics()
        var clock: UInt64 = 0
        var roomWaiters: [UInt64: CheckedContinuation<Void, Never>] = [:]
        var nextWaiterID: UInt64 = 0
    }

    private enum CheckOut {
        case ready(SharedConnect)
        case evict(SSHConnection)
        case wait
        case refuse(any Error)
    }

    public let options: Options
    private let group: EventLoopGroup
    private let handshakes: AsyncLimiter
    private let jumpHosts: JumpHostPool
    private let state = Locked(State())

    public init(group: EventLoopGroup = .shared, options: Options = Options()) {
        self.group = group
        self.options = options
        handshakes = AsyncLimiter(limit: options.maxConcurrentHandshakes)
        jumpHosts = JumpHostPool(group: group, handshakes: handshakes, options: .init(
            tunnelsPerConnection: options.tunnelsPerJumpHostConnection,
            connectionsPerJumpHost: options.connectionsPerJumpHost,
            handshakesPerJumpHost: options.maxConcurrentHandshakes,
            remembersFailures: options.failurePolicy == .remember))
    }

    public var statistics: Statistics {
        var statistics = state.withLock { $0.statistics }
        statistics.jumpHostConnectionsOpened = jumpHosts.connectionsOpened
        return statistics
    }

    /// Runs `body` with the pooled connection for `spec`, connecting if there is
    /// none yet (concurrent callers for one host share one attempt) and replacing
    /// one that broke since its last use. The connection counts as in use until
    /// `body` returns.
    public func withConnection<T: Sendable>(for spec: ConnectionSpec,
                                            _ body: (SSHConnection) async throws -> T) async throws -> T {
        switch spec.transport {
        case .ssh: break
        case .local:
            throw SSHError(.other, phase: .connect, "ansible_connection=local: a local host runs commands (exec, workflow tasks), not file transfers")
        case .unsupported(let plugin):
            throw SSHError(.other, phase: .connect, "ansible_connection=\(plugin) is not supported; Tasker connects over SSH or runs locally")
        }
        let attempt = try await checkOut(spec)
        do {
            var connection = try await connection(from: attempt, spec: spec)
            if await connection.isBroken {
                connection = try await reconnect(spec, replacing: connection)
            }
            let value = try await body(connection)
            await checkIn(spec)
            return value
        } catch {
            await checkIn(spec)
            throw error
        }
    }

    /// Replaces `broken` with a fresh connection, once per broken connection.
    /// Callers hold the host's connection (inside `withConnection`).
    public func reconnect(_ spec: ConnectionSpec, replacing broken: SSHConnection) async throws -> SSHConnection {
        let (attempt, isNew) = try state.withLock { state -> (SharedConnect, Bool) in
            guard let current = state.entries[spec.poolKey]?.attempt else {
                throw SSHError(.connectionLost, phase: .channel, "connection closed")
            }
            if case .success(let connection)? = current.result, connection === broken {
                let attempt = makeAttempt(spec)
                state.entries[spec.poolKey]!.state = .connecting(attempt)
                state.statistics.connectionsOpened += 1
                state.statistics.reconnects += 1
                return (attempt, true)
            }
            return (current, false)
        }
        if isNew { Task { await broken.close() } }
        return try await connection(from: attempt, spec: spec)
    }

    /// Closes every pooled connection, jump hosts' last.
    public func closeAll() async {
        await closeTargets()
        await jumpHosts.closeAll()
    }

    private func closeTargets() async {
        let attempts = state.withLock { state in
            let attempts = state.entries.values.compactMap { entry -> SharedConnect? in
                switch entry.state {
                case .connecting(let attempt), .ready(let attempt): return attempt
                case .closed, .failed, .backingOff: return nil
                }
            }
            state.entries.removeAll()
            state.open = 0
            return attempts
        }
        await withTaskGroup(of: Void.self) { group in
            for attempt in attempts {
                group.addTask { if let connection = try? await attempt.value() { await connection.close() } }
            }
        }
    }

    // MARK: Users and room

    private func connection(from attempt: SharedConnect, spec: ConnectionSpec) async throws -> SSHConnection {
        do {
            let connection = try await attempt.value()
            state.withLock { state in
                guard var entry = state.entries[spec.poolKey], case .connecting(let current) = entry.state, current === attempt else { return }
                entry.state = .ready(attempt)
                entry.wasConnected = true
                entry.failures = 0
                state.entries[spec.poolKey] = entry
            }
            return connection
        } catch {
            let cancelled = (error as? SSHError)?.kind == .cancelled
            state.withLock { state in
                guard var entry = state.entries[spec.poolKey], case .connecting(let current) = entry.state, current === attempt else { return }
                if cancelled {
                    entry.state = .closed
                } else {
                    entry.failures += 1
                    switch options.failurePolicy {
                    case .remember: entry.state = .failed(attempt, since: .now())
                    case .retryOnNextUse: entry.state = .closed
                    case .backOff(let backoff):
                        entry.state = .backingOff(until: .after(seconds: backoff.delay(afterFailures: entry.failures)), error: error)
                    }
                }
                state.entries[spec.poolKey] = entry
                state.open -= 1
                wakeRoomWaiters(&state)
            }
            throw error
        }
    }

    private func checkOut(_ spec: ConnectionSpec) async throws -> SharedConnect {
        while true {
            let step = state.withLock { state -> CheckOut in
                var entry = state.entries[spec.poolKey] ?? Entry()
                if case .backingOff(let until, let error) = entry.state {
                    guard until.hasPassed else {
                        state.statistics.refusedWhileBackingOff += 1
                        return .refuse(error)
                    }
                    entry.state = .closed
                }
                if case .closed = entry.state {
                    guard state.open < options.maxOpenConnections else { return evictionOrWait(&state) }
                    entry.state = .connecting(makeAttempt(spec))
                    state.open += 1
                    state.statistics.connectionsOpened += 1
                    if entry.wasConnected { state.statistics.reconnects += 1 }
                }
                entry.users += 1
                state.entries[spec.poolKey] = entry
                return .ready(entry.attempt!)
            }
            switch step {
            case .ready(let attempt): return attempt
            case .evict(let connection): await connection.close()
            case .wait: try await waitForRoom()
            case .refuse(let error): throw error
            }
        }
    }

    /// At the limit: picks the connection idle the longest to close, or says to wait.
    private func evictionOrWait(_ state: inout State) -> CheckOut {
        var oldest: (key: String, idleSince: UInt64, connection: SSHConnection)?
        for (key, entry) in state.entries where entry.users == 0 {
            guard let connection = entry.connection else { continue }
            if oldest == nil || entry.idleSince < oldest!.idleSince { oldest = (key, entry.idleSince, connection) }
        }
        guard let oldest else { return .wait }
        state.entries[oldest.key]?.state = .closed
        state.open -= 1
        return .evict(oldest.connection)
    }

    /// Ends one use of the host's connection. A broken connection gives its
    /// socket back at once; so does every connection of a run that does not
    /// come back to its hosts.
    private func checkIn(_ spec: ConnectionSpec) async {
        let idle = state.withLock { state -> SSHConnection? in
            guard var entry = state.entries[spec.poolKey] else { return nil }
            entry.users -= 1
            state.clock += 1
            entry.idleSince = state.clock
            state.entries[spec.poolKey] = entry
            guard entry.users == 0 else { return nil }
            wakeRoomWaiters(&state)
            return entry.connection
        }
        guard let idle else { return }
        if options.keepsIdleConnections {
            guard await idle.isBroken else { return }
        }
        let release = state.withLock { state -> Bool in
            guard var entry = state.entries[spec.poolKey], entry.users == 0, entry.connection === idle else { return false }
            entry.state = .closed
            state.entries[spec.poolKey] = entry
            state.open -= 1
            wakeRoomWaiters(&state)
            return true
        }
        if release { await idle.close() }
    }

    private func waitForRoom() async throws {
        let id = state.withLock { state -> UInt64 in
            state.nextWaiterID += 1
            return state.nextWaiterID
        }
        await withTaskCancellationHandler {
            await withCheckedContinuation { continuation in
                let registered = state.withLock { state -> Bool in
                    guard !Task.isCancelled else { return false }
                    state.roomWaiters[id] = continuation
                    return true
                }
                if !registered { continuation.resume() }
            }
        } onCancel: {
            state.withLock { $0.roomWaiters.removeValue(forKey: id) }?.resume()
        }
        if Task.isCancelled { throw SSHError(.cancelled, phase: .connect, "cancelled") }
    }

    private func wakeRoomWaiters(_ state: inout State) {
        let waiters = state.roomWaiters.values
        state.roomWaiters.removeAll()
        for waiter in waiters { waiter.resume() }
    }

    private func makeAttempt(_ spec: ConnectionSpec) -> SharedConnect {
        if !spec.jumps.isEmpty {
            let jumpHosts = self.jumpHosts
            return SharedConnect { try await jumpHosts.connect(spec) }
        }
        let loop = group.next()
        let handshakes = self.handshakes
        return SharedConnect {
            try await handshakes.withPermit {
                try await SSHConnection.connect(spec.settings, on: loop)
            }
        }
    }
}

import SSH
import Synchronization

/// One authenticated connection per host, opened on first use and shared by
/// every later command to that host. Handshakes are admission-controlled so a
/// large fleet does not trip sshd's MaxStartups.
public final class ConnectionPool: Sendable {
    public struct Statistics: Sendable, Equatable {
        public var connectionsOpened = 0
        public var reconnects = 0
    }

    private struct State {
        var connections: [String: Task<SSHConnection, any Error>] = [:]
        var statistics = Statistics()
    }

    private let group: EventLoopGroup
    private let handshakes: AsyncLimiter
    private let remembersFailures: Bool
    private let state = Mutex(State())

    /// With `remembersFailures` (one-shot fan-outs), a host that could not be
    /// reached fails fast for the rest of the run; without it (workflows, whose
    /// later steps and retries may come minutes later), the next command tries again.
    public init(group: EventLoopGroup = .shared, maxConcurrentHandshakes: Int = 50, remembersFailures: Bool = true) {
        self.group = group
        handshakes = AsyncLimiter(limit: maxConcurrentHandshakes)
        self.remembersFailures = remembersFailures
    }

    public var statistics: Statistics { state.withLock { $0.statistics } }

    /// The pooled connection for `spec`, connecting if there is none yet.
    /// Concurrent callers for one host share a single connection attempt.
    public func connection(for spec: ConnectionSpec) async throws -> SSHConnection {
        let task = state.withLock { state -> Task<SSHConnection, any Error> in
            if let existing = state.connections[spec.poolKey] { return existing }
            let task = makeConnectTask(spec)
            state.connections[spec.poolKey] = task
            state.statistics.connectionsOpened += 1
            return task
        }
        do {
            return try await withTaskCancellationHandler { try await task.value } onCancel: { task.cancel() }
        } catch {
            if !remembersFailures {
                state.withLock { state in
                    if state.connections[spec.poolKey] == task { state.connections[spec.poolKey] = nil }
                }
            }
            throw error
        }
    }

    /// Replaces `broken` with a fresh connection, once per broken connection.
    public func reconnect(_ spec: ConnectionSpec, replacing broken: SSHConnection) async throws -> SSHConnection {
        let current = state.withLock { $0.connections[spec.poolKey] }
        if let current, let connection = try? await current.value, connection !== broken {
            return connection
        }
        let task = state.withLock { state -> Task<SSHConnection, any Error> in
            let task = makeConnectTask(spec)
            state.connections[spec.poolKey] = task
            state.statistics.connectionsOpened += 1
            state.statistics.reconnects += 1
            return task
        }
        Task { await broken.close() }
        return try await task.value
    }

    /// Closes every pooled connection.
    public func closeAll() async {
        let tasks = state.withLock { state in
            let tasks = Array(state.connections.values)
            state.connections.removeAll()
            return tasks
        }
        await withTaskGroup(of: Void.self) { group in
            for task in tasks {
                group.addTask { if let connection = try? await task.value { await connection.close() } }
            }
        }
    }

    private func makeConnectTask(_ spec: ConnectionSpec) -> Task<SSHConnection, any Error> {
        let loop = group.next()
        let handshakes = self.handshakes
        return Task {
            try await handshakes.withPermit {
                try await SSHConnection.connect(spec.settings, on: loop)
            }
        }
    }
}

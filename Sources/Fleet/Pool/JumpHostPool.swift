import Locking
import Platform
import SSH

/// Connections to jump hosts, shared by every target behind them. A target's
/// session rides a tunnel (a `direct-tcpip` channel) of one of them; a jump
/// host connection carries up to `tunnelsPerConnection` tunnels, further
/// connections to the same jump host open beyond that, up to
/// `connectionsPerJumpHost`, past which targets wait for a tunnel to close.
/// A jump host behind another one is itself reached through a tunnel of the
/// one before it, so chains nest.
///
/// Jump host connections stay open until `closeAll`; one that broke is
/// replaced for the commands that come after.
final class JumpHostPool: Sendable {
    struct Options: Sendable {
        var tunnelsPerConnection: Int
        var connectionsPerJumpHost: Int
        /// Handshakes at once with or through one jump host.
        var handshakesPerJumpHost: Int
        var remembersFailures: Bool
    }

    /// One tunnel taken on a jump host connection; give it back once.
    struct Lease: Sendable {
        var key: String
        var carrier: UInt64
        var connection: SSHConnection
    }

    private struct Carrier {
        var attempt: SharedConnect
        var tunnels: Int
    }

    private struct JumpHost {
        var carriers: [UInt64: Carrier] = [:]
        /// A failure to reach the jump host, kept for the rest of a one-shot run.
        var failure: SSHError?
        var waiters: [UInt64: CheckedContinuation<Void, Never>] = [:]
        let handshakes: AsyncLimiter
    }

    private struct State {
        var jumpHosts: [String: JumpHost] = [:]
        var nextID: UInt64 = 0
        var connectionsOpened = 0
    }

    private enum Step {
        case use(UInt64, SharedConnect)
        case wait(UInt64)
        case fail(SSHError)
    }

    let options: Options
    private let group: EventLoopGroup
    private let handshakes: AsyncLimiter
    private let state = Locked(State())

    init(group: EventLoopGroup, handshakes: AsyncLimiter, options: Options) {
        self.group = group
        self.handshakes = handshakes
        self.options = options
    }

    var connectionsOpened: Int { state.withLock { $0.connectionsOpened } }

    /// Connects to `spec` through its jump hosts. Each hop's connection, and
    /// then the target's tunnel and session, must be ready within the connect
    /// timeout; waiting for a free tunnel (past `tunnelsPerConnection` ×
    /// `connectionsPerJumpHost`) is queueing, not connecting, and is not timed.
    func connect(_ spec: ConnectionSpec) async throws -> SSHConnection {
        let lease = try await leaseTunnel(spec.jumps[...])
        let deadline = Deadline.after(seconds: spec.settings.connectTimeout)
        do {
            return try await handshakeLimiter(lease.key).withPermit {
                try await handshakes.withPermit {
                    try await SSHConnection.connect(spec.settings, through: lease.connection, deadline: deadline,
                                                    whenTunnelEnds: { self.giveBack(lease) })
                }
            }
        } catch let error as SSHError {
            throw Self.viaError(error, spec)
        }
    }

    /// Closes every jump host connection, those furthest down a chain first.
    func closeAll() async {
        let attempts = state.withLock { state -> [(depth: Int, attempt: SharedConnect)] in
            defer { state.jumpHosts.removeAll() }
            return state.jumpHosts.flatMap { key, jumpHost in
                jumpHost.carriers.values.map { (key.components(separatedBy: " > ").count, $0.attempt) }
            }
        }
        for depth in Set(attempts.map(\.depth)).sorted(by: >) {
            await withTaskGroup(of: Void.self) { group in
                for entry in attempts where entry.depth == depth {
                    group.addTask { if let connection = try? await entry.attempt.value() { await connection.close() } }
                }
            }
        }
    }

    // MARK: Tunnels

    /// A tunnel on a connection to the last host of `chain`, reached through the hosts before it.
    private func leaseTunnel(_ chain: ArraySlice<ConnectionSpec>) async throws -> Lease {
        let key = ConnectionSpec.poolKey(chain)
        var replaced = 0
        while true {
            let step = state.withLock { state -> Step in
                var jumpHost = state.jumpHosts[key] ?? JumpHost(handshakes: AsyncLimiter(limit: options.handshakesPerJumpHost))
                defer { state.jumpHosts[key] = jumpHost }
                if let failure = jumpHost.failure { return .fail(failure) }
                state.nextID += 1
                if let (id, _) = jumpHost.carriers.filter({ $0.value.tunnels < options.tunnelsPerConnection })
                    .min(by: { $0.key < $1.key }) {
                    jumpHost.carriers[id]!.tunnels += 1
                    return .use(id, jumpHost.carriers[id]!.attempt)
                }
                if jumpHost.carriers.count < options.connectionsPerJumpHost {
                    let attempt = makeCarrier(chain, handshakes: jumpHost.handshakes)
                    jumpHost.carriers[state.nextID] = Carrier(attempt: attempt, tunnels: 1)
                    state.connectionsOpened += 1
                    return .use(state.nextID, attempt)
                }
                return .wait(state.nextID)
            }
            switch step {
            case .fail(let error):
                throw error
            case .wait(let id):
                try await waitForTunnel(key, id: id)
            case .use(let id, let attempt):
                let connection: SSHConnection
                do {
                    connection = try await attempt.value()
                } catch {
                    let error = error as? SSHError ?? SSHError(.other, phase: .connect, "\(error)")
                    forget(key, carrier: id, failure: error.kind == .cancelled ? nil : error)
                    throw error
                }
                if await connection.isBroken {
                    // Replaced once for the commands that come after; a replacement
                    // that breaks at once fails this target.
                    forget(key, carrier: id, failure: nil)
                    Task { await connection.close() }
                    replaced += 1
                    if replaced > 1 {
                        throw SSHError(.unreachable, phase: .connect, "jump host \(chain.last!.name): connection lost")
                    }
                    continue
                }
                return Lease(key: key, carrier: id, connection: connection)
            }
        }
    }

    private func giveBack(_ lease: Lease) {
        let waiters = state.withLock { state -> [CheckedContinuation<Void, Never>] in
            guard var jumpHost = state.jumpHosts[lease.key] else { return [] }
            if jumpHost.carriers[lease.carrier] != nil { jumpHost.carriers[lease.carrier]!.tunnels -= 1 }
            let waiters = Array(jumpHost.waiters.values)
            jumpHost.waiters.removeAll()
            state.jumpHosts[lease.key] = jumpHost
            return waiters
        }
        for waiter in waiters { waiter.resume() }
    }

    /// Drops a carrier that failed or broke; remembers why, when the run wants that.
    private func forget(_ key: String, carrier id: UInt64, failure: SSHError?) {
        let waiters = state.withLock { state -> [CheckedContinuation<Void, Never>] in
            guard var jumpHost = state.jumpHosts[key] else { return [] }
            jumpHost.carriers[id] = nil
            if options.remembersFailures, let failure { jumpHost.failure = failure }
            let waiters = Array(jumpHost.waiters.values)
            jumpHost.waiters.removeAll()
            state.jumpHosts[key] = jumpHost
            return waiters
        }
        for waiter in waiters { waiter.resume() }
    }

    private func waitForTunnel(_ key: String, id: UInt64) async throws {
        await withTaskCancellationHandler {
            await withCheckedContinuation { continuation in
                let registered = state.withLock { state -> Bool in
                    guard !Task.isCancelled, state.jumpHosts[key] != nil else { return false }
                    state.jumpHosts[key]!.waiters[id] = continuation
                    return true
                }
                if !registered { continuation.resume() }
            }
        } onCancel: {
            state.withLock { $0.jumpHosts[key]?.waiters.removeValue(forKey: id) }?.resume()
        }
        if Task.isCancelled { throw SSHError(.cancelled, phase: .connect, "cancelled") }
    }

    private func handshakeLimiter(_ key: String) -> AsyncLimiter {
        state.withLock { state in
            state.jumpHosts[key]?.handshakes ?? AsyncLimiter(limit: options.handshakesPerJumpHost)
        }
    }

    // MARK: Connecting to jump hosts

    /// Connects to the last host of `chain`: directly for the first hop, else
    /// through a tunnel of the hop before it. Its errors name it as a jump host.
    private func makeCarrier(_ chain: ArraySlice<ConnectionSpec>, handshakes perHost: AsyncLimiter) -> SharedConnect {
        let hop = chain.last!
        let loop = group.next()
        return SharedConnect { [self] in
            let carrier = chain.count > 1 ? try await leaseTunnel(chain.dropLast()) : nil
            let deadline = Deadline.after(seconds: hop.settings.connectTimeout)
            do {
                return try await perHost.withPermit {
                    try await handshakes.withPermit {
                        if let carrier {
                            return try await SSHConnection.connect(hop.settings, through: carrier.connection, deadline: deadline,
                                                                   whenTunnelEnds: { self.giveBack(carrier) })
                        }
                        return try await SSHConnection.connect(hop.settings, on: loop, deadline: deadline)
                    }
                }
            } catch let error as SSHError {
                throw Self.jumpHostError(error, hop)
            }
        }
    }

    /// `jump host bastion1 (10.0.0.1:22): connection refused`.
    static func jumpHostError(_ error: SSHError, _ hop: ConnectionSpec) -> SSHError {
        guard error.kind != .cancelled else { return error }
        var wrapped = error
        let address = hop.settings.address.contains(":") ? "[\(hop.settings.address)]" : hop.settings.address
        wrapped.message = error.kind == .unreachable
            ? "jump host \(hop.name) (\(address):\(hop.settings.port)): \(error.message)"
            : "jump host \(hop.name): \(error.message)"
        return wrapped
    }

    /// A target's own handshake, host key or login failure says which jump host carried it.
    static func viaError(_ error: SSHError, _ spec: ConnectionSpec) -> SSHError {
        guard [.handshake, .hostKey, .auth].contains(error.phase), let last = spec.jumps.last else { return error }
        var wrapped = error
        wrapped.message = "via \(last.name): \(error.message)"
        return wrapped
    }
}

import CLibSSH2
import Glibc
import Platform

/// One authenticated SSH connection to one host.
///
/// The actor runs on its event loop's thread (its executor *is* the loop), so
/// the libssh2 session and its channels never leave that thread. Many
/// commands may run on it at once, each on its own channel, up to
/// `settings.maxChannels`.
///
/// Life cycle (`Lifecycle`, its legal moves in `move(to:)`): connecting, then
/// ready once authenticated; once it fails (lost socket, silent host) or
/// starts closing, `failure` says why and every waiter wakes and unwinds;
/// libssh2's session is freed only after the last user has released its
/// channels, and then it is closed.
public actor SSHConnection {
    public nonisolated let loop: EventLoop
    public nonisolated let settings: SSHConnectionSettings
    /// Set once the connection is authenticated.
    public private(set) var hostKey: HostKey?
    /// The address the TCP connection reached, e.g. `127.0.0.1:22`.
    public private(set) var peer: String?

    public nonisolated var unownedExecutor: UnownedSerialExecutor {
        loop.asUnownedSerialExecutor()
    }

    var session: OpaquePointer?
    /// The socket, or -1 when a jump host's tunnel carries the session.
    var fd: Int32 = -1
    /// What carries the session when it is not a socket.
    var tunnel: Tunnel?
    /// The ProxyCommand at the other end of the socket, when one carries the session.
    var proxy: ProxyCommandProcess?
    var watcher: SocketWatcher?
    let io: UnsafeMutablePointer<tasker_session_io>
    /// Shared by every channel read on this connection; safe because the actor runs one job at a time.
    let readBuffer: UnsafeMutableRawBufferPointer
    var channelSlots: SlotQueue
    /// libssh2 keeps one channel open in progress per session, so opens take turns.
    var openLock = SlotQueue(limit: 1)
    /// The one channel beyond `maxChannels` that kills of timed-out commands use.
    var killSlot = SlotQueue(limit: 1)
    var liveness: Liveness?
    /// Readers paused until their output sink has room; woken when the connection fails.
    var pausedReaders: [UInt64: LoopWait] = [:]
    var nextPausedReaderID: UInt64 = 0
    /// Where the connection is in its life.
    enum Lifecycle {
        case connecting
        case ready
        /// Unusable for `reason`; its waiters have been woken, its resources are held until `close()`.
        case failed(SSHError)
        /// `close()` waits for the users still holding channels; every new use fails with `reason`.
        case closing(reason: SSHError)
        case closed(reason: SSHError)
    }

    private(set) var lifecycle = Lifecycle.connecting

    /// Why the connection cannot be used any more; nil while connecting or ready.
    public var failure: SSHError? {
        switch lifecycle {
        case .connecting, .ready: return nil
        case .failed(let reason), .closing(let reason), .closed(let reason): return reason
        }
    }
    /// Operations that use the session now (commands, probes).
    private var activeUsers = 0
    private var idleWaiters: [CheckedContinuation<Void, Never>] = []

    init(settings: SSHConnectionSettings, loop: EventLoop) {
        self.settings = settings
        self.loop = loop
        io = .allocate(capacity: 1)
        io.initialize(to: tasker_session_io())
        readBuffer = .allocate(byteCount: 64 << 10, alignment: 16)
        channelSlots = SlotQueue(limit: settings.maxChannels)
    }

    isolated deinit {
        releaseResources()
        io.deallocate()
        readBuffer.deallocate()
    }

    /// Opens, verifies and authenticates a connection within `settings.connectTimeout`,
    /// trying every address the host name resolves to.
    public static func connect(_ settings: SSHConnectionSettings, on loop: EventLoop,
                               deadline: Deadline? = nil) async throws -> SSHConnection {
        try LibSSH2Runtime.ensureInitialised()
        let deadline = deadline ?? .after(seconds: settings.connectTimeout)
        let connection = SSHConnection(settings: settings, loop: loop)
        do {
            if let command = settings.proxyCommand {
                try await connection.establish(proxyCommand: command, deadline: deadline)
            } else {
                let addresses = try await SocketAddress.resolve(settings.address, port: settings.port, deadline: deadline)
                try await connection.establish(addresses, deadline: deadline)
            }
            await connection.becameReady()
        } catch {
            await connection.close()
            throw error
        }
        return connection
    }

    /// Opens, verifies and authenticates a connection carried by a `direct-tcpip`
    /// channel of `carrier` (a jump host's connection) to `settings.address`,
    /// which the jump host resolves. The session runs on the carrier's loop.
    /// `whenTunnelEnds` runs exactly once: when the carrier's channel is gone,
    /// or at once if it could not be opened.
    public static func connect(_ settings: SSHConnectionSettings, through carrier: SSHConnection,
                               deadline: Deadline? = nil,
                               whenTunnelEnds: (@Sendable () -> Void)? = nil) async throws -> SSHConnection {
        let deadline = deadline ?? .after(seconds: settings.connectTimeout)
        let tunnel = try await carrier.openTunnel(to: settings.address, port: settings.port,
                                                  deadline: deadline, whenEnded: whenTunnelEnds)
        let connection = SSHConnection(settings: settings, loop: carrier.loop)
        do {
            try await connection.establish(over: tunnel, deadline: deadline)
            await connection.becameReady()
        } catch {
            await connection.close()
            throw error
        }
        return connection
    }

    /// The one place the life cycle moves: connecting → ready; connecting or ready → failed;
    /// any state but closing and closed → closing; closing → closed.
    private func move(to next: Lifecycle) {
        switch (lifecycle, next) {
        case (.connecting, .ready), (.connecting, .failed), (.ready, .failed),
             (.connecting, .closing), (.ready, .closing), (.failed, .closing), (.closing, .closed):
            lifecycle = next
        default:
            preconditionFailure("SSHConnection: no move from \(lifecycle) to \(next)")
        }
    }

    /// Authenticated: the end of `establish`.
    func becameReady() {
        if case .connecting = lifecycle { move(to: .ready) }
    }

    /// Whether the connection failed or was closed; a pool replaces such a connection.
    public var isBroken: Bool { failure != nil }

    // MARK: Users and failure

    /// Registers an operation on the session; throws, with phase `channel`
    /// (nothing started), when the connection is already unusable.
    func beginUse() throws {
        if let failure {
            throw SSHError(failure.kind == .cancelled ? .cancelled : .connectionLost, phase: .channel, failure.message)
        }
        activeUsers += 1
    }

    func endUse() {
        activeUsers -= 1
        if activeUsers == 0 {
            let waiters = idleWaiters
            idleWaiters.removeAll()
            for waiter in waiters { waiter.resume() }
        }
    }

    /// Marks the connection unusable and wakes everything waiting on it. The
    /// socket is shut down so that no later libssh2 call can wait to send.
    func fail(_ error: SSHError) {
        guard failure == nil else { return }
        move(to: .failed(error))
        stopLiveness()
        if fd >= 0 { shutdown(fd, Int32(SHUT_RDWR)) }
        tunnel?.release()
        wakeEveryWaiter()
    }

    private func wakeEveryWaiter() {
        watcher?.wakeAll(.ready)
        channelSlots.removeAll(.connectionFailed)
        openLock.removeAll(.connectionFailed)
        killSlot.removeAll(.connectionFailed)
        let paused = pausedReaders.values
        pausedReaders.removeAll()
        for wait in paused { wait.finish(.cancelled) }
    }

    // MARK: Closing

    /// Disconnects politely when the connection is healthy, bounded by a short
    /// deadline, and releases everything once every user has let go of its channels.
    public func close() async {
        switch lifecycle {
        case .closing, .closed: return
        case .connecting, .ready, .failed: break
        }
        let healthy = failure == nil && !(watcher?.hungUp ?? true)
        stopLiveness()
        let reason = failure ?? SSHError(.connectionLost, phase: .close, "connection closed")
        move(to: .closing(reason: reason))
        if activeUsers > 0 {
            wakeEveryWaiter()
            await withCheckedContinuation { idleWaiters.append($0) }
        }
        if healthy, let session { await disconnect(session) }
        releaseResources()
        move(to: .closed(reason: reason))
    }

    private func disconnect(_ session: OpaquePointer) async {
        let deadline = Deadline.after(seconds: 1)
        while tasker_session_disconnect(session, "tasker done") == LIBSSH2_ERROR_EAGAIN, !deadline.hasPassed {
            guard await waitForSocket(.writable, deadline: deadline, cancellable: false) == .ready else { return }
        }
    }

    /// Frees the session, stops watching the socket and closes it. The socket is
    /// shut down first, so libssh2 fails its sends instead of answering EAGAIN
    /// while it closes channels left open.
    private func releaseResources() {
        if let session {
            if fd >= 0 { shutdown(fd, Int32(SHUT_RDWR)) }
            tunnel?.release()
            var attempts = 0
            while libssh2_session_free(session) == LIBSSH2_ERROR_EAGAIN, attempts < 100 { attempts += 1 }
            self.session = nil
        }
        watcher?.stop()
        watcher = nil
        if fd >= 0 {
            Glibc.close(fd)
            fd = -1
        }
        tunnel?.release()
        io.pointee.tunnel = nil
        proxy?.terminate()
    }

    // MARK: Establishing

    private func establish(_ addresses: [SocketAddress], deadline: Deadline) async throws {
        try await connectSocket(addresses, deadline: deadline)
        try await startSession(socket: fd, deadline: deadline)
    }

    private func establish(proxyCommand command: String, deadline: Deadline) async throws {
        let (process, socket) = try ProxyCommandProcess.start(command, on: loop)
        proxy = process
        fd = socket
        watcher = SocketWatcher(loop: loop, fd: socket)
        peer = "ProxyCommand \(command)"
        do {
            try await startSession(socket: socket, deadline: deadline)
        } catch var error as SSHError where error.kind != .cancelled && [.handshake, .connect].contains(error.phase) {
            if let said = process.lastErrorLine() { error.message += "; ProxyCommand said: \(said)" }
            error.message = "ProxyCommand '\(command)': \(error.message)"
            throw error
        }
    }

    private func establish(over tunnel: Tunnel, deadline: Deadline) async throws {
        self.tunnel = tunnel
        watcher = tunnel.sessionWatcher
        io.pointee.tunnel = tunnel.buffers
        peer = "\(tunnel.destination) via \(tunnel.carrierName)"
        try await startSession(socket: Tunnel.placeholderSocket, deadline: deadline)
    }

    /// Key exchange, host key verification and authentication over the transport in place.
    private func startSession(socket: Int32, deadline: Deadline) async throws {
        guard let session = tasker_session_new(io) else {
            throw SSHError(.other, phase: .handshake, "cannot allocate a libssh2 session")
        }
        self.session = session
        libssh2_session_set_blocking(session, 0)
        try applyAlgorithmPreferences(session)
        let handshake = try await retry(.handshake, until: deadline, onTimeout: .unreachable) {
            libssh2_session_handshake(session, socket)
        }
        if handshake != 0 {
            var message = lastErrorMessage(default: "SSH handshake failed")
            if handshake == LIBSSH2_ERROR_KEX_FAILURE || message.contains("exchange encryption keys") {
                message += "; " + offeredAlgorithmsHint(session)
            }
            throw SSHError(.unreachable, phase: .handshake, message, code: handshake)
        }
        try verifyHostKey(session)
        try await authenticate(session, deadline: deadline)
        startLiveness()
    }

    /// Connects to the first address that accepts. Each address gets an equal
    /// share of the time left, so one that drops packets cannot starve the next.
    private func connectSocket(_ addresses: [SocketAddress], deadline: Deadline) async throws {
        var failures: [String] = []
        for (index, address) in addresses.enumerated() {
            let remaining = addresses.count - index
            let attemptDeadline = remaining == 1
                ? deadline : min(deadline, .after(seconds: deadline.secondsRemaining / Double(remaining)))
            do {
                try await connectSocket(to: address, deadline: attemptDeadline)
                peer = address.description
                return
            } catch let error as SSHError where error.kind == .unreachable {
                watcher?.stop()
                watcher = nil
                if fd >= 0 { Glibc.close(fd) }
                fd = -1
                if addresses.count == 1 { throw error }
                failures.append("\(address): \(error.message)")
            }
        }
        throw SSHError(.unreachable, phase: .connect, failures.joined(separator: "; "))
    }

    private func connectSocket(to address: SocketAddress, deadline: Deadline) async throws {
        let (socket, pending) = try TCPSocket.startConnect(to: address, deadPeerTimeout: settings.deadPeerTimeout)
        fd = socket
        watcher = SocketWatcher(loop: loop, fd: socket)
        guard pending else { return }
        switch await waitForSocket(.writable, deadline: deadline, cancellable: true) {
        case .ready: break
        case .timedOut: throw SSHError(.unreachable, phase: .connect, "TCP connect timed out after \(formatSeconds(settings.connectTimeout))")
        case .cancelled: throw SSHError(.cancelled, phase: .connect, "cancelled")
        }
        let error = TCPSocket.pendingError(socket)
        if error != 0 { throw TCPSocket.connectError(error) }
    }

    private func verifyHostKey(_ session: OpaquePointer) throws {
        var length = 0
        var type: Int32 = 0
        guard let raw = libssh2_session_hostkey(session, &length, &type), length > 4 else {
            throw SSHError(.hostKeyRejected, phase: .hostKey, "server sent no host key")
        }
        let blob = [UInt8](UnsafeRawBufferPointer(start: raw, count: length))
        var sha256: [UInt8] = []
        if let hash = libssh2_hostkey_hash(session, LIBSSH2_HOSTKEY_HASH_SHA256) {
            sha256 = [UInt8](UnsafeRawBufferPointer(start: hash, count: 32))
        }
        let key = HostKey(type: HostKey.typeName(fromBlob: blob) ?? "unknown", blob: blob, sha256: sha256)
        hostKey = key
        if settings.hostKeyPolicy == .off { return }
        let name = KnownHosts.lookupName(host: settings.knownHostsName, port: settings.port)
        switch settings.knownHosts.verify(key, host: settings.knownHostsName, port: settings.port) {
        case .trusted:
            return
        case .unknown where settings.hostKeyPolicy == .acceptNew:
            try settings.knownHosts.append(key, host: settings.knownHostsName, port: settings.port)
        case .unknown:
            let authorities = settings.knownHosts.certificateAuthorityLocations(host: settings.knownHostsName, port: settings.port)
            if !authorities.isEmpty {
                throw SSHError(.hostKeyRejected, phase: .hostKey,
                               "host key for \(name) is unknown (\(key.type) \(key.fingerprint)): known_hosts trusts only a certificate authority for it (@cert-authority at \(authorities.joined(separator: ", "))), and libssh2 1.10 cannot negotiate certificate host keys; add the host's plain key to known_hosts (check the fingerprint above, then e.g. ssh-keyscan -p \(settings.port) \(settings.address))")
            }
            throw SSHError(.hostKeyRejected, phase: .hostKey,
                           "host key for \(name) is unknown (\(key.type) \(key.fingerprint)); not in \(settings.knownHosts.files.joined(separator: ", ")) (use --host-key-policy accept-new to trust it)")
        case .changed(let location):
            throw SSHError(.hostKeyRejected, phase: .hostKey,
                           "HOST KEY CHANGED for \(name): server offers \(key.type) \(key.fingerprint), \(location) records another key")
        case .revoked(let location):
            throw SSHError(.hostKeyRejected, phase: .hostKey,
                           "host key for \(name) is revoked (\(location)): \(key.type) \(key.fingerprint)")
        }
    }

    // MARK: Waiting on libssh2

    /// Repeats a non-blocking libssh2 call until it stops answering EAGAIN,
    /// waiting for the socket in between. `onTimeout` classifies a missed deadline.
    func retry(_ phase: SSHPhase, until deadline: Deadline, onTimeout: SSHError.Kind,
               cancellable: Bool = true, _ call: () -> Int32) async throws -> Int32 {
        while true {
            let before = ioGeneration
            let rc = call()
            if rc != LIBSSH2_ERROR_EAGAIN {
                noteProgress(since: before)
                return rc
            }
            try await awaitSocket(since: before, phase: phase, deadline: deadline, onTimeout: onTimeout, cancellable: cancellable)
        }
    }

    /// Bytes moved on the socket so far; a change means libssh2 made progress
    /// that other waiters on this connection may be waiting for.
    var ioGeneration: UInt64 {
        io.pointee.bytes_received &+ io.pointee.bytes_sent
    }

    /// Wakes the other waiters if the socket moved since `before`: libssh2 may
    /// have queued packets for their channels.
    func noteProgress(since before: UInt64) {
        if ioGeneration != before { watcher?.wakeAll(.ready) }
    }

    /// Waits until libssh2 can make progress after an EAGAIN.
    func awaitSocket(since before: UInt64, phase: SSHPhase, deadline: Deadline,
                     onTimeout: SSHError.Kind, cancellable: Bool) async throws {
        if let failure { throw failure }
        if ioGeneration != before {
            watcher?.wakeAll(.ready)
            return
        }
        if cancellable, Task.isCancelled { throw SSHError(.cancelled, phase: phase, "cancelled") }
        if deadline.hasPassed { throw timeoutError(phase, kind: onTimeout) }
        var interest: IOInterest = []
        if let session {
            let directions = libssh2_session_block_directions(session)
            if directions & LIBSSH2_SESSION_BLOCK_INBOUND != 0 { interest.insert(.readable) }
            if directions & LIBSSH2_SESSION_BLOCK_OUTBOUND != 0 { interest.insert(.writable) }
        }
        if interest.isEmpty { interest = .readable }
        switch await waitForSocket(interest, deadline: deadline, cancellable: cancellable) {
        case .ready: return
        case .timedOut: throw timeoutError(phase, kind: onTimeout)
        case .cancelled: throw failure ?? SSHError(.cancelled, phase: phase, "cancelled")
        }
    }

    func waitForSocket(_ interest: IOInterest, deadline: Deadline, cancellable: Bool) async -> SocketWatcher.Outcome {
        guard let watcher else { return .cancelled }
        let id = watcher.makeWaiterID()
        let loop = self.loop
        // The operation closure must capture the isolated `self`, or it would
        // run on the global executor instead of this connection's loop.
        return await withTaskCancellationHandler {
            await withCheckedContinuation { continuation in
                self.watcher?.register(id, interest: interest, deadline: deadline, continuation: continuation)
                    ?? continuation.resume(returning: .cancelled)
            }
        } onCancel: {
            if cancellable { loop.execute { watcher.finish(id, .cancelled) } }
        }
    }

    private func timeoutError(_ phase: SSHPhase, kind: SSHError.Kind) -> SSHError {
        switch phase {
        case .connect, .handshake, .hostKey, .auth, .resolve:
            return SSHError(kind, phase: phase, "no SSH session within the connect timeout (\(formatSeconds(settings.connectTimeout)))")
        default:
            return SSHError(kind, phase: phase, "timed out")
        }
    }

    func lastErrorMessage(default fallback: String) -> String {
        guard let session else { return fallback }
        var message: UnsafeMutablePointer<CChar>?
        var length: Int32 = 0
        libssh2_session_last_error(session, &message, &length, 0)
        guard let message, length > 0 else { return fallback }
        return String(cString: message)
    }

    func lastErrno() -> Int32 {
        guard let session else { return LIBSSH2_ERROR_SOCKET_DISCONNECT }
        return libssh2_session_last_errno(session)
    }

    /// Why the socket failed, in words, when the kernel said so (a TCP timeout, a reset).
    var socketFailureReason: String? {
        if let reason = tunnel?.endReason { return reason }
        switch io.pointee.last_errno {
        case 0 where io.pointee.peer_closed != 0 && proxy != nil:
            return "the ProxyCommand closed the connection" + (proxy?.lastErrorLine().map { " (\($0))" } ?? "")
        case 0 where io.pointee.peer_closed != 0: return "\(settings.name) closed the connection"
        case 0: return nil
        case ETIMEDOUT:
            return "no answer from host for \(settings.deadPeerTimeout.map(formatSeconds) ?? "too long") (TCP timeout)"
        case let code: return String(cString: strerror(code)).lowercased()
        }
    }
}

func formatSeconds(_ seconds: Double) -> String {
    seconds == seconds.rounded() ? "\(Int(seconds))s" : "\(seconds)s"
}

import CLibSSH2
import Glibc

/// One authenticated SSH connection to one host.
///
/// The actor runs on its event loop's thread (its executor *is* the loop), so
/// the libssh2 session and its channels never leave that thread. Many
/// commands may run on it at once, each on its own channel, up to
/// `settings.maxChannels`.
public actor SSHConnection {
    public nonisolated let loop: EventLoop
    public nonisolated let settings: SSHConnectionSettings
    /// Set once the connection is authenticated.
    public private(set) var hostKey: HostKey?

    public nonisolated var unownedExecutor: UnownedSerialExecutor {
        loop.asUnownedSerialExecutor()
    }

    var session: OpaquePointer?
    var fd: Int32 = -1
    var watcher: SocketWatcher?
    let io: UnsafeMutablePointer<tasker_session_io>
    /// Shared by every channel read on this connection; safe because the actor runs one job at a time.
    let readBuffer: UnsafeMutableRawBufferPointer
    var channelSlots: ChannelSlots
    var keepaliveTimer: UInt64?
    var failure: SSHError?

    init(settings: SSHConnectionSettings, loop: EventLoop) {
        self.settings = settings
        self.loop = loop
        io = .allocate(capacity: 1)
        io.initialize(to: tasker_session_io(bytes_received: 0, bytes_sent: 0))
        readBuffer = .allocate(byteCount: 64 << 10, alignment: 16)
        channelSlots = ChannelSlots(limit: settings.maxChannels)
    }

    isolated deinit {
        if let session { libssh2_session_free(session) }
        if fd >= 0 { Glibc.close(fd) }
        io.deallocate()
        readBuffer.deallocate()
    }

    /// Opens, verifies and authenticates a connection within `settings.connectTimeout`.
    public static func connect(_ settings: SSHConnectionSettings, on loop: EventLoop) async throws -> SSHConnection {
        try LibSSH2Runtime.ensureInitialised()
        let deadline = Deadline.after(seconds: settings.connectTimeout)
        let address = try SocketAddress.resolve(settings.address, port: settings.port)
        let connection = SSHConnection(settings: settings, loop: loop)
        do {
            try await connection.establish(address, deadline: deadline)
        } catch {
            await connection.close()
            throw error
        }
        return connection
    }

    /// Disconnects politely, bounded by a short deadline, and releases everything.
    public func close() async {
        if let timer = keepaliveTimer {
            loop.cancelTimer(timer)
            keepaliveTimer = nil
        }
        if let session, failure == nil, !(watcher?.hungUp ?? true) {
            _ = try? await retry(.close, until: .after(seconds: 1), onTimeout: .other, cancellable: false) {
                tasker_session_disconnect(session, "tasker done")
            }
        }
        if let session {
            libssh2_session_free(session)
            self.session = nil
        }
        watcher?.stop()
        watcher = nil
        if fd >= 0 {
            Glibc.close(fd)
            fd = -1
        }
        failure = failure ?? SSHError(.connectionLost, phase: .close, "connection closed")
    }

    // MARK: Establishing

    private func establish(_ address: SocketAddress, deadline: Deadline) async throws {
        let (socket, pending) = try TCPSocket.startConnect(to: address)
        fd = socket
        let watcher = SocketWatcher(loop: loop, fd: socket)
        self.watcher = watcher
        if pending {
            switch await waitForSocket(.writable, deadline: deadline, cancellable: true) {
            case .ready: break
            case .timedOut: throw SSHError(.unreachable, phase: .connect, "TCP connect timed out after \(formatSeconds(settings.connectTimeout))")
            case .cancelled: throw SSHError(.cancelled, phase: .connect, "cancelled")
            }
            let error = TCPSocket.pendingError(socket)
            if error != 0 { throw TCPSocket.connectError(error) }
        }
        guard let session = tasker_session_new(io) else {
            throw SSHError(.other, phase: .handshake, "cannot allocate a libssh2 session")
        }
        self.session = session
        libssh2_session_set_blocking(session, 0)
        preferKnownHostKeyTypes(session)
        let handshake = try await retry(.handshake, until: deadline, onTimeout: .unreachable) {
            libssh2_session_handshake(session, socket)
        }
        if handshake != 0 {
            throw SSHError(.unreachable, phase: .handshake, lastErrorMessage(default: "SSH handshake failed"), code: handshake)
        }
        try verifyHostKey(session)
        try await authenticate(session, deadline: deadline)
        if settings.keepaliveInterval > 0 {
            libssh2_keepalive_config(session, 1, UInt32(settings.keepaliveInterval))
            scheduleKeepalive()
        }
    }

    /// Steers key exchange toward a host key type known_hosts records for this host.
    private func preferKnownHostKeyTypes(_ session: OpaquePointer) {
        let known = settings.knownHosts.keyTypes(host: settings.address, port: settings.port)
        guard !known.isEmpty else { return }
        // Only names libssh2 supports: libssh2 1.10 removes unsupported ones with an
        // overlapping memcpy, which corrupts memory.
        let supported = Self.supportedHostKeyAlgorithms(session)
        let order = (known + supported.filter { !known.contains($0) }).filter(supported.contains)
        guard !order.isEmpty else { return }
        _ = libssh2_session_method_pref(session, LIBSSH2_METHOD_HOSTKEY, order.joined(separator: ","))
    }

    private static func supportedHostKeyAlgorithms(_ session: OpaquePointer) -> [String] {
        var algorithms: UnsafeMutablePointer<UnsafePointer<CChar>?>?
        let count = libssh2_session_supported_algs(session, LIBSSH2_METHOD_HOSTKEY, &algorithms)
        guard count > 0, let algorithms else { return [] }
        defer { libssh2_free(session, algorithms) }
        return (0..<Int(count)).compactMap { algorithms[$0].map { String(cString: $0) } }
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
        let name = KnownHosts.lookupName(host: settings.address, port: settings.port)
        switch settings.knownHosts.verify(key, host: settings.address, port: settings.port) {
        case .trusted:
            return
        case .unknown where settings.hostKeyPolicy == .acceptNew:
            try settings.knownHosts.append(key, host: settings.address, port: settings.port)
        case .unknown:
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

    // MARK: Keepalive

    private func scheduleKeepalive() {
        let interval = Double(settings.keepaliveInterval)
        keepaliveTimer = loop.scheduleTimer(at: .after(seconds: interval)) { [weak self] in
            guard let self else { return }
            self.assumeIsolated { $0.sendKeepalive() }
        }
    }

    private func sendKeepalive() {
        keepaliveTimer = nil
        guard let session, failure == nil else { return }
        var next: Int32 = 0
        let rc = libssh2_keepalive_send(session, &next)
        if rc != 0, rc != LIBSSH2_ERROR_EAGAIN {
            failure = SSHError(.connectionLost, phase: .read, lastErrorMessage(default: "keepalive failed"), code: rc)
            watcher?.wakeAll(.ready)
            return
        }
        scheduleKeepalive()
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
        case .cancelled: throw SSHError(.cancelled, phase: phase, "cancelled")
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
}

func formatSeconds(_ seconds: Double) -> String {
    seconds == seconds.rounded() ? "\(Int(seconds))s" : "\(seconds)s"
}

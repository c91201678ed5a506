import CLibSSH2
import Platform

/// A connection as a jump host: it carries other sessions over `direct-tcpip`
/// channels (sshd's MaxSessions does not count them). Each tunnel is one
/// channel and one pump task on this connection, which counts as a user of
/// the connection until the channel is gone.
extension SSHConnection {
    /// Opens a channel to `host:port` as this connection's host sees it and
    /// starts carrying a session's bytes over it. `whenEnded` runs exactly
    /// once: when the channel is closed, or now if it could not be opened.
    func openTunnel(to host: String, port: Int, deadline: Deadline,
                    whenEnded: (@Sendable () -> Void)? = nil) async throws -> Tunnel {
        var carried = false
        defer { if !carried { whenEnded?() } }
        try beginUse()
        defer { if !carried { endUse() } }
        guard let session else { throw SSHError(.connectionLost, phase: .connect, "connection closed") }
        let destination = "\(host):\(port)"
        let channel = try await openDirectChannel(session, host: host, port: port, deadline: deadline)
        let tunnel = Tunnel(loop: loop, destination: destination, carrierName: settings.name, whenEnded: whenEnded)
        carried = true
        Task { await self.carry(tunnel, over: channel) }
        return tunnel
    }

    private func openDirectChannel(_ session: OpaquePointer, host: String, port: Int,
                                   deadline: Deadline) async throws -> OpaquePointer {
        do {
            try await acquire(.open, phase: .connect, deadline: deadline, cancellable: true)
        } catch let error as SSHError where error.kind == .timeout {
            throw SSHError(.unreachable, phase: .connect,
                           "no tunnel through \(settings.name) to \(host):\(port) within the connect timeout")
        }
        defer { release(.open) }
        while true {
            let before = ioGeneration
            if let channel = tasker_channel_direct_tcpip(session, host, Int32(port)) {
                noteProgress(since: before)
                return channel
            }
            let code = lastErrno()
            if code == LIBSSH2_ERROR_EAGAIN {
                try await awaitSocket(since: before, phase: .connect, deadline: deadline,
                                      onTimeout: .unreachable, cancellable: true)
                continue
            }
            noteProgress(since: before)
            if let failure { throw SSHError(.unreachable, phase: .connect, "connection lost via \(settings.name): \(failure.message)") }
            if Self.isSocketError(code) {
                let error = SSHError(.connectionLost, phase: .connect, socketFailureReason ?? lastErrorMessage(default: "connection lost"), code: code)
                fail(error)
                throw SSHError(.unreachable, phase: .connect, "connection lost via \(settings.name): \(error.message)", code: code)
            }
            throw SSHError(.unreachable, phase: .connect,
                           "\(settings.name) could not open a tunnel to \(host):\(port) (\(Self.openFailureReason(lastErrorMessage(default: "refused"))))",
                           code: code)
        }
    }

    /// "Channel open failure (connect failed)" → "connect failed".
    private static func openFailureReason(_ message: String) -> String {
        guard let open = message.firstIndex(of: "("), message.hasSuffix(")") else { return message }
        return String(message[message.index(after: open)..<message.index(before: message.endIndex)])
    }

    /// Moves bytes between the tunnel's queues and the channel until either
    /// side ends, then closes the channel.
    private func carry(_ tunnel: Tunnel, over channel: OpaquePointer) async {
        let buffers = tunnel.buffers
        var reason = "tunnel closed"
        /// Once the session let go, what it queued (its goodbye) may take this long to send.
        var flushDeadline: Deadline?
        while true {
            if let failure {
                reason = "connection lost via \(settings.name): \(failure.message)"
                break
            }
            if tunnel.released {
                if flushDeadline == nil { flushDeadline = .after(seconds: 2) }
                if buffers.pointee.outbound_length == 0 || flushDeadline!.hasPassed { break }
            }
            let before = ioGeneration
            var moved = false
            var channelError: Int?
            if buffers.pointee.outbound_length > 0 {
                let n = libssh2_channel_write_ex(channel, 0, buffers.pointee.outbound, buffers.pointee.outbound_length)
                if n > 0 {
                    let rest = buffers.pointee.outbound_length - n
                    buffers.pointee.outbound.update(from: buffers.pointee.outbound + n, count: rest)
                    buffers.pointee.outbound_length = rest
                    moved = true
                } else if n != Int(LIBSSH2_ERROR_EAGAIN) {
                    channelError = n
                }
            }
            let room = buffers.pointee.inbound_capacity - buffers.pointee.inbound_length
            if channelError == nil, room > 0, !tunnel.released {
                let n = libssh2_channel_read_ex(channel, 0, buffers.pointee.inbound + buffers.pointee.inbound_length, room)
                if n > 0 {
                    buffers.pointee.inbound_length += n
                    moved = true
                } else if n == 0, libssh2_channel_eof(channel) != 0 {
                    noteProgress(since: before)
                    reason = "\(settings.name) closed the tunnel to \(tunnel.destination)"
                    break
                } else if n < 0, n != Int(LIBSSH2_ERROR_EAGAIN) {
                    channelError = n
                }
            }
            noteProgress(since: before)
            if let code = channelError {
                if Self.isSocketError(Int32(code)) {
                    fail(SSHError(.connectionLost, phase: .read, socketFailureReason ?? lastErrorMessage(default: "connection lost"), code: Int32(code)))
                    continue
                }
                reason = "tunnel through \(settings.name) failed: \(lastErrorMessage(default: "channel error \(code)"))"
                break
            }
            if moved {
                tunnel.sessionWatcher.wakeAll(.ready)
                continue
            }
            await waitForTunnelWork(tunnel, reading: room > 0 && !tunnel.released, until: flushDeadline ?? .distantFuture)
        }
        tunnel.end(reason)
        await abandon(channel)
        endUse()
        tunnel.carrierFinished()
    }

    /// Sleeps until the socket can move the tunnel's bytes or the tunnelled
    /// session queued bytes or made room.
    private func waitForTunnelWork(_ tunnel: Tunnel, reading: Bool, until deadline: Deadline) async {
        guard let watcher, !tunnel.takePoke() else { return }
        var interest: IOInterest = reading ? .readable : []
        if let session, libssh2_session_block_directions(session) & LIBSSH2_SESSION_BLOCK_OUTBOUND != 0 {
            interest.insert(.writable)
        }
        let id = watcher.makeWaiterID()
        tunnel.carrierWaits(on: watcher, id: id)
        _ = await withCheckedContinuation { continuation in
            watcher.register(id, interest: interest, deadline: deadline, continuation: continuation)
        }
        tunnel.carrierResumed()
    }
}

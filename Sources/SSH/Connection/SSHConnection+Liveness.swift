import CLibSSH2
import Platform

/// Dead-peer detection, as OpenSSH's `ServerAliveInterval` × `ServerAliveCountMax`:
/// every interval, if nothing arrived from the host since the last look, a
/// probe asks it for an answer; once it has been silent for interval × count
/// the connection fails, waking every command on it, whatever it was doing
/// (reading, opening a channel, idling between workflow steps).
///
/// The probe is a channel open of a type no server offers, which the server
/// must refuse at once. Unlike libssh2's keepalive it needs an answer that
/// libssh2 reads itself, so an idle connection also drains what the host sent
/// (including its own keepalive requests, which libssh2 answers while reading).
extension SSHConnection {
    struct Liveness {
        var timer: UInt64?
        var bytesSeen: UInt64
        var lastHeard: Deadline
        var probing = false
    }

    func startLiveness() {
        guard settings.keepaliveInterval > 0 else { return }
        liveness = Liveness(bytesSeen: io.pointee.bytes_received, lastHeard: .now())
        scheduleLivenessCheck()
    }

    func stopLiveness() {
        if let timer = liveness?.timer { loop.cancelTimer(timer) }
        liveness = nil
    }

    private func scheduleLivenessCheck() {
        liveness?.timer = loop.scheduleTimer(at: .after(seconds: settings.keepaliveInterval)) { [weak self] in
            self?.assumeIsolated { $0.checkLiveness() }
        }
    }

    private func checkLiveness() {
        guard var state = liveness, failure == nil, let limit = settings.deadPeerTimeout else { return }
        state.timer = nil
        let now = Deadline.now()
        let received = io.pointee.bytes_received
        let heardSinceLastLook = received != state.bytesSeen
        if heardSinceLastLook {
            state.bytesSeen = received
            state.lastHeard = now
        }
        let silence = Double(now.uptimeNanoseconds &- state.lastHeard.uptimeNanoseconds) / 1e9
        liveness = state
        if silence >= limit - 0.001 {
            fail(SSHError(.connectionLost, phase: .keepalive, "no answer from host for \(formatSeconds(limit))"))
            return
        }
        // A channel open already in flight asks the host for an answer too.
        if !heardSinceLastLook, !state.probing, !openLock.isFull {
            liveness?.probing = true
            Task { await self.probe() }
        }
        scheduleLivenessCheck()
    }

    private func probe() async {
        defer { liveness?.probing = false }
        guard let session, (try? beginUse()) != nil else { return }
        defer { endUse() }
        guard (try? await acquire(.open, phase: .keepalive, deadline: .distantFuture, cancellable: false)) != nil else { return }
        defer { release(.open) }
        while failure == nil {
            let before = ioGeneration
            if let channel = tasker_channel_open_probe(session) {
                // A server that accepts any channel type: let it go again.
                noteProgress(since: before)
                _ = try? await retry(.keepalive, until: .after(seconds: 2), onTimeout: .other, cancellable: false) {
                    libssh2_channel_free(channel)
                }
                return
            }
            let code = lastErrno()
            guard code == LIBSSH2_ERROR_EAGAIN else {
                // The refusal is the answer; a socket error fails the connection.
                noteProgress(since: before)
                if Self.isSocketError(code) {
                    fail(SSHError(.connectionLost, phase: .keepalive, socketFailureReason ?? lastErrorMessage(default: "connection lost"), code: code))
                }
                return
            }
            do {
                try await awaitSocket(since: before, phase: .keepalive, deadline: .distantFuture, onTimeout: .other, cancellable: false)
            } catch {
                return
            }
        }
    }
}

import CLibSSH2
import COpenSSL
import Platform

extension SSHConnection {
    /// Runs `command` with the remote user's shell on a new channel, streaming
    /// stdout and stderr to `output` until the command ends or `deadline` passes.
    ///
    /// On timeout or cancellation the remote process group is killed over a
    /// second channel before the error is thrown, so no remote work outlives it.
    /// Errors with phase `channel` mean the command never started.
    /// `input` is written to the command's standard input while its output is
    /// read (so neither side can stall the other), then EOF; without it the
    /// command sees EOF at once.
    /// With `pty`, the command gets a pseudo-terminal (as `ssh -t`): its stdout and
    /// stderr then arrive merged on stdout, with terminal line endings (`\r\n`).
    /// With `become`, the command runs as another user (see `BecomeInvocation`);
    /// if the become program refuses, the error's kind is `becomeFailed`.
    public func execute(_ command: String, input: (any CommandInput)? = nil, pty: Bool = false, become: Become? = nil,
                        output: any OutputSink, deadline: Deadline) async throws -> RemoteExit {
        try beginUse()
        defer { endUse() }
        try await acquire(.channel, phase: .channel, deadline: deadline, cancellable: true)
        defer { release(.channel) }
        guard let session else { throw SSHError(.connectionLost, phase: .channel, "connection closed") }

        let channel = try await openChannel(session, deadline: deadline, cancellable: true)
        let tracksExitStatus = tasker_channel_track_exit_status(channel) == 1
        var preamble = ProcessIDPreamble()
        let invocation = become.map(BecomeInvocation.init)
        var handshake = invocation.map { BecomeHandshake($0, terminal: pty) }
        var execSent = false
        do {
            if pty {
                let rc = try await retry(.exec, until: deadline, onTimeout: .timeout) {
                    libssh2_channel_request_pty_ex(channel, "xterm", 5, nil, 0, 80, 24, 0, 0)
                }
                if rc != 0 { throw channelError(.exec, rc, "the server refused a pseudo-terminal") }
            }
            let wrapped = ProcessIDPreamble.wrap(command, environment: settings.environment, become: invocation)
            let rc = try await retry(.exec, until: deadline, onTimeout: .timeout) {
                execSent = true
                return tasker_channel_exec(channel, wrapped, UInt32(wrapped.utf8.count))
            }
            if rc != 0 { throw channelError(.exec, rc, "exec request refused") }
            var pending = PendingInput(input)
            if handshake == nil {
                // Through become, input waits until the become program has had its password.
                try await startInput(&pending, channel, deadline: deadline)
            }
            try await pump(channel, input: &pending, become: &handshake, preamble: &preamble, output: output, deadline: deadline)
        } catch {
            // Kill before closing: libssh2 closes a channel only once the server
            // closes its side, which sshd does when the command has exited.
            if let error = error as? SSHError, error.kind == .timeout || error.kind == .cancelled {
                if execSent, preamble.pid == nil { await awaitProcessID(channel, preamble: &preamble, output: output) }
                await killProcessGroup(preamble.pid, session: session)
            }
            await abandon(channel)
            throw error
        }
        let exit = try await finish(channel, session: session, tracksExitStatus: tracksExitStatus)
        if let handshake, !handshake.isReady {
            throw SSHError(.becomeFailed, phase: .become, handshake.failureReason(exit))
        }
        return exit
    }

    func openChannel(_ session: OpaquePointer, deadline: Deadline, cancellable: Bool) async throws -> OpaquePointer {
        try await acquire(.open, phase: .channel, deadline: deadline, cancellable: cancellable)
        defer { release(.open) }
        var refusals = 0
        while true {
            let before = ioGeneration
            if let channel = tasker_channel_open_session(session, settings.channelWindowSize, 32768) {
                noteProgress(since: before)
                return channel
            }
            let code = lastErrno()
            if code == LIBSSH2_ERROR_EAGAIN {
                try await awaitSocket(since: before, phase: .channel, deadline: deadline,
                                      onTimeout: .timeout, cancellable: cancellable)
                continue
            }
            noteProgress(since: before)
            // sshd refuses a channel while a just-closed one still holds its
            // MaxSessions slot; it frees it a moment later.
            if code == LIBSSH2_ERROR_CHANNEL_FAILURE, refusals < 100, !deadline.hasPassed {
                refusals += 1
                await loop.sleep(until: .after(seconds: 0.02 * Double(min(refusals, 10))))
                continue
            }
            throw channelError(.channel, code, "cannot open a channel")
        }
    }

    private func sendEOF(_ channel: OpaquePointer, deadline: Deadline) async throws {
        let eof = try await retry(.exec, until: deadline, onTimeout: .timeout) { libssh2_channel_send_eof(channel) }
        if eof != 0 { throw channelError(.exec, eof, "cannot close the command's standard input") }
    }

    /// Starts the command's input: without any, EOF at once, or a command that
    /// reads it (`cat`, `sha256sum`) waits forever.
    private func startInput(_ input: inout PendingInput, _ channel: OpaquePointer, deadline: Deadline) async throws {
        input.started = true
        if input.source == nil {
            try await sendEOF(channel, deadline: deadline)
            input.finished = true
        }
    }

    /// Writes what the channel's window takes of the started input, fetching the
    /// next chunk when one is used up and sending EOF after the last. Returns
    /// the bytes written.
    private func feed(_ channel: OpaquePointer, _ pending: inout PendingInput, deadline: Deadline) async throws -> Int {
        guard pending.started, !pending.finished, let source = pending.source else { return 0 }
        var written = 0
        while true {
            if !pending.hasBytes {
                guard let chunk = try await source.chunk(pending.next) else {
                    try await sendEOF(channel, deadline: deadline)
                    pending.finished = true
                    return written
                }
                pending.next += 1
                pending.bytes = chunk
                pending.offset = 0
                continue
            }
            let start = pending.offset
            let n = pending.bytes.withUnsafeBytes { raw in
                libssh2_channel_write_ex(channel, 0, raw.baseAddress!.advanced(by: start).assumingMemoryBound(to: CChar.self), raw.count - start)
            }
            if n == Int(LIBSSH2_ERROR_EAGAIN) { return written }
            if n < 0 {
                if Self.isSocketError(Int32(n)) { throw channelError(.exec, Int32(n), "cannot write the command's standard input") }
                // The command closed its input or ended (`head -c 10`): the rest is not wanted.
                pending.finished = true
                return written
            }
            pending.offset += n
            written += n
            // Let the output be read between windows' worth of input.
            if written >= 1 << 20 { return written }
        }
    }

    /// Answers the become program: the password (and a newline) for its first
    /// prompt, EOF for any other, which makes it give up at once. Once it has
    /// run the wrapper, the command's own input starts. Returns whether anything changed.
    private func advance(_ handshake: inout BecomeHandshake?, input: inout PendingInput, _ channel: OpaquePointer,
                         deadline: Deadline) async throws -> Bool {
        guard var current = handshake else { return false }
        defer { handshake = current }
        if current.isReady {
            guard !input.started else { return false }
            try await startInput(&input, channel, deadline: deadline)
            return true
        }
        switch current.nextAnswer() {
        case .password?:
            guard let password = current.invocation.become.password else { return false }
            if current.terminal, current.invocation.become.method != .sudo {
                // PAM's terminal conversation (su) prints its prompt before it turns echo
                // off and flushes pending input: a password sent at once could be echoed or lost.
                await loop.sleep(until: .after(seconds: 0.1))
            }
            var line = Array(password.unsafeBytes) + [UInt8(ascii: "\n")]
            defer { tasker_wipe(&line, line.count) }
            try await writeAll(line, channel, deadline: deadline)
            return true
        case .endOfInput?:
            input.started = true
            input.finished = true
            // On a terminal, channel EOF reaches no reader; ^D at a line's start does.
            if current.terminal { try await writeAll([0x04], channel, deadline: deadline) }
            try await sendEOF(channel, deadline: deadline)
            return true
        case nil:
            return false
        }
    }

    /// Writes all of `bytes` to the command's standard input (a password: a few bytes, one window).
    private func writeAll(_ bytes: [UInt8], _ channel: OpaquePointer, deadline: Deadline) async throws {
        var offset = 0
        while offset < bytes.count {
            let before = ioGeneration
            let n = bytes.withUnsafeBytes { raw in
                libssh2_channel_write_ex(channel, 0, raw.baseAddress!.advanced(by: offset).assumingMemoryBound(to: CChar.self), raw.count - offset)
            }
            noteProgress(since: before)
            if n == Int(LIBSSH2_ERROR_EAGAIN) {
                try await awaitSocket(since: before, phase: .become, deadline: deadline, onTimeout: .timeout, cancellable: true)
                continue
            }
            if n < 0 { throw channelError(.become, Int32(n), "cannot write the become password") }
            offset += n
        }
    }

    /// Drains stdout and stderr until the remote side sends EOF on both, writing
    /// the command's input as the channel takes it.
    private func pump(_ channel: OpaquePointer, input: inout PendingInput, become handshake: inout BecomeHandshake?,
                      preamble: inout ProcessIDPreamble, output: any OutputSink, deadline: Deadline) async throws {
        let buffer = readBuffer
        // Yield after this much per stream so one fast host cannot starve the loop.
        let slice = 1 << 20
        while true {
            let before = ioGeneration
            var delivered = try await feed(channel, &input, deadline: deadline)
            for stream in OutputStreamKind.allCases {
                var fromStream = 0
                while fromStream < slice {
                    let n = libssh2_channel_read_ex(channel, Int32(stream.rawValue), buffer.baseAddress, buffer.count)
                    if n > 0 {
                        let chunk = UnsafeRawBufferPointer(rebasing: buffer[0..<n])
                        if stream == .stdout {
                            preamble.consume(chunk) { Self.route($0, from: .stdout, through: &handshake, to: output) }
                        } else {
                            Self.route(chunk, from: .stderr, through: &handshake, to: output)
                        }
                        fromStream += n
                        continue
                    }
                    if n == 0 || n == Int(LIBSSH2_ERROR_EAGAIN) { break }
                    throw channelError(.read, Int32(n), "read failed")
                }
                delivered += fromStream
            }
            noteProgress(since: before)
            if try await advance(&handshake, input: &input, channel, deadline: deadline) { delivered += 1 }
            if libssh2_channel_eof(channel) == 1 {
                preamble.flush { output.write($0, to: .stdout) }
                return
            }
            if deadline.hasPassed { throw SSHError(.timeout, phase: .read, "command timed out") }
            if delivered > 0 {
                try await waitForRoom(in: output, deadline: deadline)
                await Task.yield()
                continue
            }
            try await awaitSocket(since: before, phase: .read, deadline: deadline, onTimeout: .timeout, cancellable: true)
        }
    }

    /// Output goes to the sink, or first through the become handshake until it is done.
    private static func route(_ bytes: UnsafeRawBufferPointer, from stream: OutputStreamKind,
                              through handshake: inout BecomeHandshake?, to output: any OutputSink) {
        if handshake == nil || handshake!.isReady {
            output.write(bytes, to: stream)
        } else {
            handshake!.consume(bytes, from: stream) { output.write($0, to: $1) }
        }
    }

    /// A command stopped before its PID line arrived (Ctrl-C right after it
    /// started, a slow link) may still be running: reads stdout a little
    /// longer, ignoring cancellation, so the kill can reach it.
    private func awaitProcessID(_ channel: OpaquePointer, preamble: inout ProcessIDPreamble, output: any OutputSink) async {
        let grace = Deadline.after(seconds: 2)
        let buffer = readBuffer
        while preamble.pid == nil, failure == nil {
            let before = ioGeneration
            let n = libssh2_channel_read_ex(channel, 0, buffer.baseAddress, buffer.count)
            if n > 0 {
                preamble.consume(UnsafeRawBufferPointer(rebasing: buffer[0..<n])) { output.write($0, to: .stdout) }
                continue
            }
            noteProgress(since: before)
            guard n == Int(LIBSSH2_ERROR_EAGAIN), libssh2_channel_eof(channel) == 0,
                  (try? await awaitSocket(since: before, phase: .read, deadline: grace, onTimeout: .timeout,
                                          cancellable: false)) != nil else { return }
        }
    }

    /// Holds this channel's reading back while `output` is full. Timers, the
    /// deadline, cancellation and the connection's failure still end the wait.
    private func waitForRoom(in output: any OutputSink, deadline: Deadline) async throws {
        let loop = self.loop
        let wait = LoopWait(loop: loop)
        guard !output.canAcceptMore(orResume: { loop.execute { wait.finish(.ready) } }) else { return }
        if let failure { throw failure }
        nextPausedReaderID += 1
        let id = nextPausedReaderID
        pausedReaders[id] = wait
        // The operation closure must use the isolated `self` to run on this connection's loop.
        let outcome = await withTaskCancellationHandler {
            await withCheckedContinuation { continuation in
                self.pausedReaders[id]?.arm(continuation, deadline: deadline) ?? continuation.resume(returning: .cancelled)
            }
        } onCancel: {
            loop.execute { wait.finish(.cancelled) }
        }
        pausedReaders[id] = nil
        switch outcome {
        case .ready: return
        case .timedOut: throw SSHError(.timeout, phase: .read, "command timed out")
        case .cancelled: throw failure ?? SSHError(.cancelled, phase: .read, "cancelled")
        }
    }

    /// Closes a finished channel and collects its exit status. A channel that
    /// closed without `exit-status` or `exit-signal` is an error, never a success.
    private func finish(_ channel: OpaquePointer, session: OpaquePointer, tracksExitStatus: Bool) async throws -> RemoteExit {
        let grace = Deadline.after(seconds: 5)
        _ = try? await retry(.close, until: grace, onTimeout: .other, cancellable: false) { libssh2_channel_close(channel) }
        _ = try? await retry(.close, until: grace, onTimeout: .other, cancellable: false) { libssh2_channel_wait_closed(channel) }
        var exit = RemoteExit(exitCode: nil, signal: nil)
        var name: UnsafeMutablePointer<CChar>?
        var nameLength = 0
        libssh2_channel_get_exit_signal(channel, &name, &nameLength, nil, nil, nil, nil)
        if let name {
            if nameLength > 0 { exit.signal = String(cString: name) }
            libssh2_free(session, name)
        }
        if exit.signal == nil {
            let status = libssh2_channel_get_exit_status(channel)
            if tracksExitStatus, status == Int32.min {
                await free(channel)
                if let failure { throw failure }
                throw SSHError(.other, phase: .exec, "no exit status from server (the channel closed without exit-status or exit-signal)")
            }
            exit.exitCode = status
        }
        await free(channel)
        return exit
    }

    /// Abandons a channel: closes it without waiting for the remote side to finish.
    func abandon(_ channel: OpaquePointer) async {
        if failure == nil {
            _ = try? await retry(.close, until: .after(seconds: 2), onTimeout: .other, cancellable: false) {
                libssh2_channel_close(channel)
            }
        }
        await free(channel)
    }

    private func free(_ channel: OpaquePointer) async {
        _ = try? await retry(.close, until: .after(seconds: 2), onTimeout: .other, cancellable: false) {
            libssh2_channel_free(channel)
        }
    }

    /// Kills the remote shell's process group (sshd made the shell a session
    /// leader) over a separate channel, bounded by a short deadline. Kills take
    /// turns on the connection's one kill slot, so commands and kills together
    /// never open more channels than `maxChannels` + 1, which sshd's MaxSessions allows.
    private func killProcessGroup(_ pid: Int32?, session: OpaquePointer) async {
        guard let pid, failure == nil else { return }
        let deadline = Deadline.after(seconds: 5)
        guard (try? await acquire(.kill, phase: .exec, deadline: deadline, cancellable: false)) != nil else { return }
        defer { release(.kill) }
        guard let channel = try? await openChannel(session, deadline: deadline, cancellable: false) else { return }
        // `-s KILL --` is the form every POSIX shell's kill takes (dash refuses `-KILL --`).
        let command = "kill -s KILL -- -\(pid) 2>/dev/null || kill -s KILL \(pid) 2>/dev/null; true"
        _ = try? await retry(.exec, until: deadline, onTimeout: .other, cancellable: false) {
            tasker_channel_exec(channel, command, UInt32(command.utf8.count))
        }
        _ = try? await retry(.close, until: deadline, onTimeout: .other, cancellable: false) {
            libssh2_channel_wait_eof(channel)
        }
        await abandon(channel)
    }

    static func isSocketError(_ code: Int32) -> Bool {
        [LIBSSH2_ERROR_SOCKET_SEND, LIBSSH2_ERROR_SOCKET_RECV, LIBSSH2_ERROR_SOCKET_DISCONNECT,
         LIBSSH2_ERROR_SOCKET_TIMEOUT, LIBSSH2_ERROR_BAD_SOCKET].contains(code)
    }

    /// An error from a channel call; a socket error fails the whole connection.
    private func channelError(_ phase: SSHPhase, _ code: Int32, _ fallback: String) -> SSHError {
        if let failure { return failure }
        guard Self.isSocketError(code) else {
            return SSHError(.other, phase: phase, lastErrorMessage(default: fallback), code: code)
        }
        let error = SSHError(.connectionLost, phase: phase, socketFailureReason ?? lastErrorMessage(default: fallback), code: code)
        fail(error)
        return error
    }
}

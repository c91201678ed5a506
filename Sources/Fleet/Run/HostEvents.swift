import Platform
import SSH

/// The events of one host's work: connecting, and each command it runs. A
/// job reports through this so that every kind of job (commands, push, pull,
/// script) tells the run the same things the same way.
struct HostEvents {
    let host: String
    let sink: RunEventSink?

    init(_ spec: ConnectionSpec, _ options: FleetRunOptions) {
        host = spec.name
        sink = options.events
    }

    /// `pool.withConnection`, telling the run when the host is being connected to and how that ended;
    /// `body` gets the connection and the milliseconds it took to obtain (0 when pooled).
    func withConnection<T: Sendable>(_ pool: ConnectionPool, for spec: ConnectionSpec, since started: Deadline,
                                     _ body: (SSHConnection, _ connectMilliseconds: Int) async throws -> T) async throws -> T {
        sink?.emit(.hostConnecting(.init(host: host)))
        var connected = false
        do {
            return try await pool.withConnection(for: spec) { connection in
                connected = true
                let milliseconds = Deadline.milliseconds(since: started)
                sink?.emit(.hostConnected(.init(host: host, via: spec.via, connectMilliseconds: milliseconds)))
                return try await body(connection, milliseconds)
            }
        } catch {
            if !connected {
                sink?.emit(.hostConnectFailed(.init(host: host, status: Self.status(of: error), error: "\(error)")))
            }
            throw error
        }
    }

    /// The status an SSH error maps to; `error` for anything else.
    private static func status(of error: any Error) -> HostStatus {
        (error as? SSHError).map(HostStatus.init) ?? .error
    }

    /// A host that needs no connection (`ansible_connection=local`).
    func connectedLocally() {
        sink?.emit(.hostConnected(.init(host: host, via: [], connectMilliseconds: 0)))
    }

    /// Runs the host's `index`th command through `execute`, telling the run when it started and how it ended
    /// (with what it printed, counted by `capture`).
    func command(_ index: Int, _ command: String, capture: OutputCapture,
                 _ execute: () async throws -> RemoteExit) async throws -> RemoteExit {
        guard let sink else { return try await execute() }
        sink.emit(.commandStarted(.init(host: host, index: index, command: command)))
        let before = capture.byteCounts
        func ended(_ status: HostStatus, _ exit: RemoteExit?) {
            let after = capture.byteCounts
            sink.emit(.commandEnded(.init(host: host, index: index, status: status, exitCode: exit?.exitCode, signal: exit?.signal,
                                          stdoutBytes: after.stdout - before.stdout, stderrBytes: after.stderr - before.stderr)))
        }
        do {
            let exit = try await execute()
            ended(exit.signal == nil && exit.exitCode == 0 ? .ok : .failed, exit)
            return exit
        } catch {
            ended(Self.status(of: error), nil)
            throw error
        }
    }
}

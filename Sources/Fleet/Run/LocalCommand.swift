import Foundation
import Platform
import SSH

/// Runs a command on the controller for an inventory host with
/// `ansible_connection=local`, as `/bin/sh -c` through `LocalProcess`, its
/// output into the same capture a remote host's goes to; a deadline or
/// cancellation stops the whole process group.
enum LocalCommand {
    static func run(_ command: String, output: any OutputSink, deadline: Deadline) async throws -> RemoteExit {
        let ending: LocalProcess.Ending
        do {
            // A deadline already passed still kills at once (a non-positive timeout would mean none).
            ending = try await LocalProcess.run(["/bin/sh", "-c", command], timeout: max(0.001, deadline.secondsRemaining), output: output)
        } catch {
            throw SSHError(.other, phase: .exec, "cannot start /bin/sh: \(error)")
        }
        if ending.stopped { throw SSHError(.cancelled, phase: .exec, "cancelled") }
        if ending.timedOut { throw SSHError(.timeout, phase: .exec, "command timed out") }
        if let signal = ending.signal { return RemoteExit(exitCode: nil, signal: SignalName.name(of: signal)) }
        return RemoteExit(exitCode: ending.exitCode, signal: nil)
    }
}

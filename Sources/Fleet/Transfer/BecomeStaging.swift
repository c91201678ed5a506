import Foundation
import SSH
import TextFormats

/// A private directory on the host that files pass through between the login
/// user's SFTP session and the become user (push and pull through become),
/// removed when the transfer ends, whatever happened.
///
/// Root reads anything the login user leaves in it. Another become user needs
/// the directory traversable (0711: no one can list it, its name is random)
/// and the files readable while they wait there.
struct BecomeStaging {
    let path: String
    /// Made and emptied through become (pull), else as the login user (push).
    let ownedByBecomeUser: Bool
    let become: Become
    private var count = 0

    private init(path: String, ownedByBecomeUser: Bool, become: Become) {
        self.path = path
        self.ownedByBecomeUser = ownedByBecomeUser
        self.become = become
    }

    /// Permission bits of files staged for the become user to read.
    var fileMode: UInt32 { Self.isShared(become) ? 0o644 : 0o600 }

    private static func isShared(_ become: Become) -> Bool { become.user != "root" }

    static let makeDirectory = "mktemp -d \"${TMPDIR:-/tmp}/tasker-stage.XXXXXXXX\""

    /// An empty staging directory, made by the login user, for a push.
    static func make(on connection: SSHConnection, for become: Become, deadline: Deadline) async throws -> BecomeStaging {
        let command = isShared(become) ? "d=$(\(makeDirectory)) && chmod 711 \"$d\" && echo \"$d\"" : makeDirectory
        let path = try await run(command, on: connection, become: nil, deadline: deadline)
        return BecomeStaging(path: path, ownedByBecomeUser: false, become: become)
    }

    /// A staging directory holding a copy of each of `sources` (with `recursive`,
    /// whole trees), made by the become user and handed to `loginUser`, for a pull.
    static func copies(of sources: [String], recursive: Bool, on connection: SSHConnection, for become: Become,
                       loginUser: String, deadline: Deadline) async throws -> BecomeStaging {
        let handOver = isShared(become)
            ? "chmod -R go+rX -- \"$d\" && chmod 711 \"$d\""
            : "chown -R -- \(ShellWords.join([loginUser])) \"$d\""
        let copy = "cp -p\(recursive ? "R" : "") -- " + ShellWords.join(sources) + " \"$d\"/"
        let command = "d=$(\(makeDirectory)) && echo \"$d\" && { \(copy) && \(handOver) || { rm -rf -- \"$d\"; exit 1; }; }"
        let path = try await run(command, on: connection, become: become, deadline: deadline, failure: "cannot read the files through become")
        return BecomeStaging(path: path, ownedByBecomeUser: true, become: become)
    }

    /// A new name in the directory.
    mutating func nextPath() -> String {
        count += 1
        return path + "/\(count)"
    }

    /// Removes the directory and its contents; runs to its end even when the run was cancelled.
    func remove(on connection: SSHConnection) async {
        let command = "rm -rf -- " + ShellWords.join([path])
        let become = ownedByBecomeUser ? become : nil
        await Task {
            _ = try? await Self.run(command, on: connection, become: become, deadline: .after(seconds: 10))
        }.value
    }

    /// Runs `command`; returns its first stdout line. A failure is an error with the command's last stderr line.
    private static func run(_ command: String, on connection: SSHConnection, become: Become?, deadline: Deadline,
                            failure: String = "cannot make a staging directory") async throws -> String {
        let capture = try OutputCapture(label: "", options: CaptureOptions(headBytes: 64 << 10, tailBytes: 0))
        let exit = try await connection.execute(command, become: become, output: capture, deadline: deadline)
        let (stdout, stderr) = capture.finish()
        let path = stdout.text.split(separator: "\n").first.map(String.init) ?? ""
        guard exit.exitCode == 0, exit.signal == nil, path.hasPrefix("/") else {
            let reason = stderr.text.split(separator: "\n").last.map(String.init) ?? "exit status \(exit.exitCode ?? -1)"
            throw FileTransferFailure(description: "\(failure): \(reason)")
        }
        return path
    }
}

import Foundation
import Platform
import SSH
import TextFormats

/// A private directory on the host (`mktemp -d`, mode 0700) for a script to
/// run from, or for files passing between the login user's SFTP session and
/// the become user (push and pull through become); removed when the work
/// ends, whatever happened.
///
/// Root reads anything the login user leaves in it. Another user needs the
/// directory `shared`: traversable (0711: no one can list it, its name is
/// random) and the files readable while they wait there.
struct RemoteTemporaryDirectory {
    let path: String
    let shared: Bool
    /// Made and emptied through this become (a pull's copies), else by the login user.
    private let owner: Become?
    private var count = 0

    private init(path: String, shared: Bool, owner: Become?) {
        self.path = path
        self.shared = shared
        self.owner = owner
    }

    /// Permission bits for files left in it for another user to read.
    var fileMode: UInt32 { shared ? 0o644 : 0o600 }

    /// Files staged for `become` are read by its user: shared unless that is root.
    static func isShared(_ become: Become) -> Bool { become.user != "root" }

    private static func makeCommand(_ prefix: String) -> String { "mktemp -d \"${TMPDIR:-/tmp}/\(prefix).XXXXXXXX\"" }

    /// An empty directory, made by the login user, named `prefix.XXXXXXXX`.
    static func make(on connection: SSHConnection, prefix: String, shared: Bool, deadline: Deadline) async throws -> Self {
        let make = makeCommand(prefix)
        let command = shared ? "d=$(\(make)) && chmod 711 \"$d\" && echo \"$d\"" : make
        let path = try await printedPath(command, on: connection, become: nil, deadline: deadline, failure: "cannot make a temporary directory")
        return Self(path: path, shared: shared, owner: nil)
    }

    /// A staging directory holding a copy of each of `sources` (with `recursive`,
    /// whole trees), made by the become user and handed to `loginUser`, for a pull.
    static func copies(of sources: [String], recursive: Bool, on connection: SSHConnection, for become: Become,
                       loginUser: String, deadline: Deadline) async throws -> Self {
        let shared = isShared(become)
        let handOver = shared
            ? "chmod -R go+rX -- \"$d\" && chmod 711 \"$d\""
            : "chown -R -- \(ShellWords.join([loginUser])) \"$d\""
        let copy = "cp -p\(recursive ? "R" : "") -- " + ShellWords.join(sources) + " \"$d\"/"
        let command = "d=$(\(makeCommand("tasker-stage"))) && echo \"$d\" && { \(copy) && \(handOver) || { rm -rf -- \"$d\"; exit 1; }; }"
        let path = try await printedPath(command, on: connection, become: become, deadline: deadline,
                                         failure: "cannot read the files through become")
        return Self(path: path, shared: shared, owner: become)
    }

    /// A new name in the directory.
    mutating func nextPath() -> String {
        count += 1
        return path + "/\(count)"
    }

    /// Removes the directory and its contents; runs to its end even when the run was cancelled.
    func remove(on connection: SSHConnection) async {
        let command = "rm -rf -- " + ShellWords.join([path])
        let owner = owner
        await Task {
            _ = try? await RemoteShell.run(command, on: connection, become: owner, deadline: .after(seconds: 10))
        }.value
    }

    /// The directory `command` prints on its first line.
    private static func printedPath(_ command: String, on connection: SSHConnection, become: Become?, deadline: Deadline,
                                    failure: String) async throws -> String {
        let stdout = try await RemoteShell.run(command, on: connection, become: become, deadline: deadline, failure: failure)
        let path = stdout.split(separator: "\n").first.map(String.init) ?? ""
        guard path.hasPrefix("/") else { throw FileTransferFailure(description: "\(failure): no directory was printed") }
        return path
    }
}

/// Shell commands Tasker itself runs on a host for file work (temporary
/// directories, checks, renames), as the login user or through become.
enum RemoteShell {
    /// Runs `command`; returns its stdout (up to `keepBytes`). With `failure`, a
    /// command that does not exit 0 is an error: `failure` and its last stderr line.
    static func run(_ command: String, on connection: SSHConnection, become: Become?, deadline: Deadline,
                    keepBytes: Int = 64 << 10, failure: String? = nil) async throws -> String {
        let capture = try OutputCapture(label: "", options: CaptureOptions(headBytes: keepBytes, tailBytes: 0))
        let exit = try await connection.execute(command, become: become, output: capture, deadline: deadline)
        let (stdout, stderr) = capture.finish()
        if let failure, exit.exitCode != 0 || exit.signal != nil {
            let reason = stderr.text.split(separator: "\n").last.map(String.init) ?? "exit status \(exit.exitCode ?? -1)"
            throw FileTransferFailure(description: "\(failure): \(reason)")
        }
        return stdout.text
    }
}

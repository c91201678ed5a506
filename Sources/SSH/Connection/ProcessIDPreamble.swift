/// Every remote command is started as `echo $$` followed by the command on
/// the next line, so Tasker learns the remote shell's PID — which sshd made a
/// session and process-group leader — and can kill the whole group on a
/// timeout. This strips that first line from stdout before any sink sees it.
struct ProcessIDPreamble {
    /// The command line sent: the PID line, the environment's export, the
    /// command — or, through become, the become program's line, which exports
    /// the environment once it runs as the target user.
    static func wrap(_ command: String, environment: RemoteEnvironment = RemoteEnvironment(),
                     become: BecomeInvocation? = nil) -> String {
        if let become { return "echo $$\n" + become.commandLine(command, environment: environment) }
        return "echo $$\n" + (environment.exportCommand.map { $0 + "\n" } ?? "") + command
    }

    private static let maximumLength = 24

    private(set) var pid: Int32?
    private var pending: [UInt8] = []
    private var done = false

    /// Feeds stdout bytes; returns the part that belongs to the command's own output.
    mutating func consume(_ bytes: UnsafeRawBufferPointer, deliver: (UnsafeRawBufferPointer) -> Void) {
        if done {
            deliver(bytes)
            return
        }
        if let newline = bytes.firstIndex(of: UInt8(ascii: "\n")) {
            pending.append(contentsOf: bytes[..<newline])
            done = true
            // A pseudo-terminal ends the line with \r\n.
            let line = pending.last == UInt8(ascii: "\r") ? pending.dropLast() : pending[...]
            if let value = Int32(String(decoding: line, as: UTF8.self)), value > 1 {
                pid = value
            } else {
                // Not our preamble after all: hand everything over unchanged.
                pending.append(UInt8(ascii: "\n"))
                pending.withUnsafeBytes(deliver)
            }
            pending = []
            let rest = UnsafeRawBufferPointer(rebasing: bytes[(newline + 1)...])
            if !rest.isEmpty { deliver(rest) }
            return
        }
        pending.append(contentsOf: bytes)
        if pending.count > Self.maximumLength {
            done = true
            pending.withUnsafeBytes(deliver)
            pending = []
        }
    }

    /// Output that never finished its first line.
    mutating func flush(deliver: (UnsafeRawBufferPointer) -> Void) {
        if !done, !pending.isEmpty { pending.withUnsafeBytes(deliver) }
        pending = []
        done = true
    }
}

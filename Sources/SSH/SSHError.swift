/// Where in the life of a connection or command an error happened.
public enum SSHPhase: String, Sendable {
    case resolve, connect, handshake, hostKey = "host key", auth, channel, exec, become, read, keepalive, close, sftp
}

/// A failure of the SSH layer, with enough context to tell the user what went
/// wrong in one line and to classify the host's result.
public struct SSHError: Error, Sendable, CustomStringConvertible {
    public enum Kind: String, Sendable {
        /// TCP refused, no route, or no SSH session established before the connect deadline.
        case unreachable
        /// The server refused every identity we offered.
        case authFailed
        /// The host key is unknown, changed or revoked under the active policy.
        case hostKeyRejected
        /// sudo, su or doas refused to run the command as the become user (wrong
        /// or missing password, not allowed, needs a terminal).
        case becomeFailed
        /// A command ran past its deadline.
        case timeout
        /// The connection broke after it was established.
        case connectionLost
        /// The caller cancelled (e.g. Ctrl-C).
        case cancelled
        /// Anything else: protocol errors, channel refusals, local failures.
        case other
    }

    public var kind: Kind
    public var phase: SSHPhase
    public var message: String
    /// libssh2's error code, when the error came from libssh2.
    public var code: Int32?

    public init(_ kind: Kind, phase: SSHPhase, _ message: String, code: Int32? = nil) {
        self.kind = kind
        self.phase = phase
        self.message = message
        self.code = code
    }

    public var description: String {
        // A refused login can only happen while authenticating; its report says the rest.
        var text = kind == .authFailed || kind == .becomeFailed ? message : "\(phase.rawValue): \(message)"
        if let code { text += " (libssh2 error \(code))" }
        return text
    }
}

/// Running a host's commands as another user (`--become`), as Ansible's
/// become does: through `sudo` (default), `su` or `doas`, with a password
/// written to the program's standard input when it asks for one.
public struct Become: Sendable, CustomStringConvertible {
    public enum Method: String, Sendable, CaseIterable {
        case sudo, su, doas
    }

    public var method: Method
    /// Who the command runs as (default root).
    public var user: String
    /// Answers the program's password prompt; without one, a prompt fails the host.
    public var password: Secret?

    public init(method: Method = .sudo, user: String = "root", password: Secret? = nil) {
        self.method = method
        self.user = user
        self.password = password
    }

    public var description: String { "\(method.rawValue) to \(user)" }
}

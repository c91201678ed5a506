import Foundation
import Glibc

/// A local account with a password, for password and keyboard-interactive
/// logins against a test sshd (the fleet's own logins are key-only, as root).
public enum PasswordUser {
    public static let name = "tasker-pw"

    /// Creates the account if needed and sets its password.
    public static func ensure(password: String) throws {
        if getpwnam(name) == nil {
            let add = try ProcessRunner.run("/usr/sbin/useradd", ["-M", "-d", "/tmp", "-s", "/bin/sh", name])
            guard add.status == 0 else { throw TestFleetError(message: "useradd \(name): \(add.stderr)") }
        }
        let quoted = "'" + "\(name):\(password)".replacingOccurrences(of: "'", with: "'\\''") + "'"
        let set = try ProcessRunner.shell("printf '%s\\n' \(quoted) | /usr/sbin/chpasswd")
        guard set.status == 0 else { throw TestFleetError(message: "chpasswd \(name): \(set.stderr)") }
    }
}

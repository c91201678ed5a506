import Foundation
import Glibc

/// Accounts for become tests, logged into with the fleet's key: one whose sudo
/// and doas need its password (`PasswordUser`), one with NOPASSWD sudo and
/// nopass doas, and a sudoers rule that wants a terminal when becoming `daemon`.
public enum BecomeUsers {
    /// sudo asks this user for its password.
    public static let withPassword = PasswordUser.name
    /// sudo runs anything for this user without a password.
    public static let withoutPassword = "tasker-nopw"
    /// sudoers says `requiretty` when becoming this user.
    public static let terminalOnlyTarget = "daemon"
    static let sudoers = "/etc/sudoers.d/tasker-tests"
    static let doasConfig = "/etc/doas.conf"

    /// Creates both accounts and the sudoers rules; `password` becomes `withPassword`'s.
    public static func ensure(password: String) throws {
        guard FileManager.default.isExecutableFile(atPath: "/usr/bin/sudo") else {
            throw TestFleetError(message: "sudo is not installed (scripts/install-deps.sh installs it)")
        }
        try PasswordUser.ensure(password: password)
        if getpwnam(withoutPassword) == nil {
            let add = try ProcessRunner.run("/usr/sbin/useradd", ["-M", "-d", "/tmp", "-s", "/bin/sh", withoutPassword])
            guard add.status == 0 else { throw TestFleetError(message: "useradd \(withoutPassword): \(add.stderr)") }
            // An account without a password is locked, and sshd refuses locked accounts even with a key.
            let unlock = try ProcessRunner.shell("echo '\(withoutPassword):'\"$(head -c 18 /dev/urandom | base64)\" | /usr/sbin/chpasswd")
            guard unlock.status == 0 else { throw TestFleetError(message: "chpasswd \(withoutPassword): \(unlock.stderr)") }
        }
        let rules = """
            \(withPassword) ALL=(ALL:ALL) ALL
            \(withoutPassword) ALL=(ALL:ALL) NOPASSWD: ALL
            Defaults>\(terminalOnlyTarget) requiretty

            """
        if (try? String(contentsOfFile: sudoers, encoding: .utf8)) != rules {
            try rules.write(toFile: sudoers, atomically: true, encoding: .utf8)
            chmod(sudoers, 0o440)
        }
        // doas reads one file; the test rules are all it holds on a test machine.
        let doasRules = "permit nopass \(withoutPassword) as root\npermit \(withPassword) as root\n"
        if FileManager.default.isExecutableFile(atPath: "/usr/bin/doas"), (try? String(contentsOfFile: doasConfig, encoding: .utf8)) != doasRules {
            try doasRules.write(toFile: doasConfig, atomically: true, encoding: .utf8)
            chmod(doasConfig, 0o600)
        }
    }
}

/// One command run through become: the command line sent to the login shell,
/// and the prompt and marker strings, fresh for each command, by which Tasker
/// tells the become program's conversation from the command's output.
///
/// The login shell runs `sudo … /bin/sh -c WRAPPER tasker-become $$ COMMAND`
/// (or `su`/`doas`). The wrapper, already the target user, prints the marker,
/// exports the environment and runs the command in a subshell. Beside it runs
/// a watcher: when the login shell goes — which is what Tasker's timeout and
/// Ctrl-C kill, as the login user, over a second channel — the watcher kills
/// the login shell's process group and its own as the target user, so nothing
/// started through become survives, and no second password is needed.
struct BecomeInvocation {
    let become: Become
    let token: String

    init(_ become: Become) {
        self.become = become
        var random = SystemRandomNumberGenerator()
        token = (0..<2).map { _ in
            let hex = String(random.next() as UInt64, radix: 16)
            return String(repeating: "0", count: 16 - hex.count) + hex
        }.joined()
    }

    /// The first line the wrapper prints, once it runs as the target user.
    var marker: String { "TASKER-BECOME-" + token }

    /// The prompt sudo is told to print (`-p`); no `%` so sudo expands nothing in it.
    var sudoPrompt: String { "[tasker-become-\(token)] password: " }

    /// Seconds between the watcher's checks that the login shell is still there
    /// (by its /proc entry, or `ps`: `kill -0` cannot tell "gone" from "not yours").
    static let watchInterval = "0.25"

    /// The line sent after the PID preamble. The login shell must not `exec`
    /// the become program (it would then be the process the kill targets, and
    /// root's): the trailing `exit` keeps the shell as its parent.
    func commandLine(_ command: String, environment: RemoteEnvironment) -> String {
        let q = ShellQuoting.singleQuoted
        let script = "/bin/sh -c \(q(wrapper(environment: environment))) tasker-become"
        let line = switch become.method {
        case .sudo:
            "sudo -H \(become.password == nil ? "-n" : "-S -p \(q(sudoPrompt))") -u \(q(become.user)) -- \(script) \"$$\" \(q(command))"
        case .doas:
            "doas \(become.password == nil ? "-n " : "")-u \(q(become.user)) \(script) \"$$\" \(q(command))"
        case .su:
            // su hands one string to the target user's shell: the login shell's PID is spliced in unquoted.
            "su \(q(become.user)) -c \(q(script + " "))\"$$\"\(q(" " + q(command)))"
        }
        return line + "\nexit $?"
    }

    /// Runs as the target user with `$1` the login shell's PID and `$2` the command.
    /// The watcher polls both the login shell and this shell: it kills when the
    /// login shell went first, and leaves once this shell is gone; the exit trap
    /// ends it at once when the command is done (however it exits), so nothing
    /// waits on its next poll.
    private func wrapper(environment: RemoteEnvironment) -> String {
        let interval = Self.watchInterval
        return """
            echo \(marker)
            \(environment.exportCommand ?? ":")
            tasker_alive() { if [ -d /proc/self ]; then [ -d "/proc/$1" ]; else ps -p "$1" >/dev/null 2>&1; fi; }
            tasker_watch() { while tasker_alive "$2"; do tasker_alive "$1" || { kill -s KILL -- -"$1"; kill -s KILL 0; }; sleep \(interval); done; }
            tasker_watch "$1" "$$" </dev/null >/dev/null 2>&1 &
            tasker_watcher=$!
            trap 'kill "$tasker_watcher" 2>/dev/null' EXIT
            tasker_command=$2
            shift 2
            eval "$tasker_command"
            exit
            """
    }
}

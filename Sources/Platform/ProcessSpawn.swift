import Glibc

/// Starts local programs the way Tasker runs every child: in a process group
/// of its own (so a kill reaches everything it started), with default signal
/// handling and an empty signal mask whatever Tasker's own are, and its
/// standard descriptors taken from the caller's.
public enum ProcessSpawn {
    public struct Failure: Error, Sendable, CustomStringConvertible {
        /// The error number (from posix_spawn, ENOENT: no such program; or from the step named).
        public var errorNumber: Int32
        /// What failed before the program could start, when it was not the spawn itself.
        public var step: String?

        public init(errorNumber: Int32, step: String? = nil) {
            self.errorNumber = errorNumber
            self.step = step
        }

        public var description: String {
            let reason = "[Errno \(errorNumber)] \(String(cString: strerror(errorNumber)))"
            return step.map { "\($0): \(reason)" } ?? reason
        }
    }

    /// Starts `argv` (looked up on PATH); `environment` replaces Tasker's own when
    /// given. A nil `stdin` leaves the child Tasker's standard input.
    public static func start(_ argv: [String], environment: [String: String]? = nil,
                             stdin: Int32? = nil, stdout: Int32, stderr: Int32) throws(Failure) -> pid_t {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        if let stdin { posix_spawn_file_actions_adddup2(&actions, stdin, 0) }
        posix_spawn_file_actions_adddup2(&actions, stdout, 1)
        posix_spawn_file_actions_adddup2(&actions, stderr, 2)
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK))
        posix_spawnattr_setpgroup(&attributes, 0)
        var defaults = sigset_t()
        sigemptyset(&defaults)
        for signal in [SIGINT, SIGTERM, SIGPIPE, SIGHUP] { sigaddset(&defaults, signal) }
        posix_spawnattr_setsigdefault(&attributes, &defaults)
        var emptyMask = sigset_t()
        sigemptyset(&emptyMask)
        posix_spawnattr_setsigmask(&attributes, &emptyMask)

        var pid: pid_t = 0
        let cArguments = argv.map { strdup($0) } + [nil]
        defer { cArguments.forEach { free($0) } }
        var cEnvironment = environment.map { $0.map { strdup("\($0.key)=\($0.value)") } + [nil] }
        defer { cEnvironment?.forEach { free($0) } }
        let status = if cEnvironment != nil {
            cEnvironment!.withUnsafeMutableBufferPointer { posix_spawnp(&pid, argv[0], &actions, &attributes, cArguments, $0.baseAddress) }
        } else {
            posix_spawnp(&pid, argv[0], &actions, &attributes, cArguments, environ)
        }
        guard status == 0 else { throw Failure(errorNumber: status) }
        return pid
    }
}

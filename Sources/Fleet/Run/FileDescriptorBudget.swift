import SSH

/// How many hosts a run may have in flight within the open-file limit: each
/// host in flight needs its socket and its output files, and connections a
/// workflow keeps between steps need their sockets too.
public struct FileDescriptorBudget: Sendable, Equatable {
    /// Descriptors kept for everything else besides those open at the start:
    /// the log file, the report, local child processes' pipes.
    public static let reserved = 16

    /// Hosts in flight at once (at most what was asked for).
    public var forks: Int
    /// Connections the pool may hold open at once.
    public var maxOpenConnections: Int
    /// Said once when `forks` had to be lowered.
    public var warning: String?

    public init(forks: Int, maxOpenConnections: Int, warning: String? = nil) {
        self.forks = forks
        self.maxOpenConnections = maxOpenConnections
        self.warning = warning
    }

    /// Raises the soft open-file limit to the hard limit, once at start.
    public static func raiseLimit() {
        FileDescriptorLimit.raiseToHardLimit()
    }

    /// The budget for `requestedForks` hosts in flight, each also writing
    /// `filesPerHost` files. Throws a one-line error when not even one host fits.
    public static func plan(requestedForks: Int, filesPerHost: Int,
                            limit: Int = FileDescriptorLimit.current,
                            inUse: Int = FileDescriptorLimit.inUse) throws -> FileDescriptorBudget {
        let available = limit == .max ? Int.max / 2 : limit - inUse - reserved
        // Its socket, the agent socket while it authenticates, its output files.
        let perHost = 2 + filesPerHost
        guard available >= perHost else {
            throw FleetError.badInput("the open-file limit (\(limit)) leaves no room for a connection: \(inUse) descriptors are open and \(reserved) are kept for Tasker itself; raise it with `ulimit -n` (e.g. ulimit -n 4096)")
        }
        let forks = min(requestedForks, available / perHost)
        var warning: String?
        if forks < requestedForks {
            warning = "the open-file limit (\(limit)) allows \(forks) hosts at once; running \(forks) instead of \(requestedForks) (raise it with `ulimit -n`)"
        }
        return FileDescriptorBudget(forks: forks, maxOpenConnections: available - forks * (perHost - 1), warning: warning)
    }
}

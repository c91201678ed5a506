import Glibc

/// The process's open-file limit (RLIMIT_NOFILE). Every connection holds a
/// socket, so a run over many hosts needs far more than the usual soft limit.
public enum FileDescriptorLimit {
    /// Raises the soft limit to the hard limit; returns the limit now in force.
    @discardableResult
    public static func raiseToHardLimit() -> Int {
        var limit = rlimit()
        guard getrlimit(RLIMIT_NOFILE_VALUE, &limit) == 0 else { return 1024 }
        if limit.rlim_cur < limit.rlim_max {
            var raised = limit
            raised.rlim_cur = limit.rlim_max
            if setrlimit(RLIMIT_NOFILE_VALUE, &raised) == 0 { limit = raised }
        }
        return current
    }

    /// The soft limit in force.
    public static var current: Int {
        var limit = rlimit()
        guard getrlimit(RLIMIT_NOFILE_VALUE, &limit) == 0 else { return 1024 }
        return Int(clamping: limit.rlim_cur) // RLIM_INFINITY (all bits set) clamps to Int.max
    }

    /// Descriptors open now, counted in /proc/self/fd.
    public static var inUse: Int {
        guard let directory = opendir("/proc/self/fd") else { return 0 }
        defer { closedir(directory) }
        var count = -1 // the directory's own descriptor
        while let entry = readdir(directory) {
            if entry.pointee.d_name.0 != 46 { count += 1 } // skip "." and ".."
        }
        return max(0, count)
    }

    static var hint: String { " (the open-file limit is \(current); raise it with `ulimit -n`)" }

    private static let RLIMIT_NOFILE_VALUE = __rlimit_resource_t(RLIMIT_NOFILE.rawValue)
}

import Glibc

/// Totals of a finished run.
public struct RunSummary: Sendable {
    public var hosts: Int
    public var counts: [HostStatus: Int]
    public var exitCode: Int32
    public var wallMilliseconds: Int
    public var connectionsOpened: Int
    /// Connections to jump hosts, not counted in `connectionsOpened`.
    public var jumpHostConnectionsOpened: Int
    public var peakResidentKilobytes: Int

    public init(tally: RunTally, exitCode: Int32, wallMilliseconds: Int, connectionsOpened: Int,
                jumpHostConnectionsOpened: Int = 0) {
        hosts = tally.hosts
        counts = tally.counts
        self.exitCode = exitCode
        self.wallMilliseconds = wallMilliseconds
        self.connectionsOpened = connectionsOpened
        self.jumpHostConnectionsOpened = jumpHostConnectionsOpened
        peakResidentKilobytes = Self.peakResidentKilobytes()
    }

    /// This process's peak resident set size, from getrusage.
    public static func peakResidentKilobytes() -> Int {
        var usage = rusage()
        getrusage(RUSAGE_SELF.rawValue, &usage)
        return usage.ru_maxrss
    }

    /// `50 hosts: 48 ok, 1 failed, 1 unreachable (1.23s)`
    public var text: String {
        let parts = HostStatus.allCases.compactMap { status -> String? in
            guard let count = counts[status], count > 0 else { return nil }
            return "\(count) \(status.rawValue)"
        }
        let seconds = Double(wallMilliseconds) / 1000
        return "\(hosts) host\(hosts == 1 ? "" : "s"): \(parts.joined(separator: ", ")) (\(seconds)s)"
    }
}

import Foundation
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

    /// This program's peak resident set size: `VmHWM` of /proc/self/status.
    /// Not getrusage's `ru_maxrss`, which survives exec and so starts at the
    /// size of whatever process forked Tasker.
    public static func peakResidentKilobytes() -> Int {
        if let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8),
           let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmHWM:") }),
           let kilobytes = Int(line.dropFirst("VmHWM:".count).trimmingCharacters(in: .whitespaces).split(separator: " ").first ?? "") {
            return kilobytes
        }
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

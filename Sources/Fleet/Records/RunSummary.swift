import Foundation
import Glibc

/// Totals of a finished run: the `summary` line of `--json`, the `run_ended` event of the journal.
public struct RunSummary: Sendable, Equatable {
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

extension RunSummary: Codable {
    private enum CodingKeys: String, CodingKey {
        case hosts, exitCode = "exit_code", wallMilliseconds = "wall_ms", connectionsOpened = "connections_opened"
        case jumpHostConnectionsOpened = "jump_host_connections_opened", peakResidentKilobytes = "peak_rss_kb"
    }

    /// A status's count, keyed by its `--json` word.
    private struct StatusKey: CodingKey {
        let stringValue: String
        init(_ status: HostStatus) { stringValue = status.rawValue }
        init?(stringValue: String) { self.stringValue = stringValue }
        var intValue: Int? { nil }
        init?(intValue: Int) { nil }
    }

    /// Every status has its count, 0 included.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(hosts, forKey: .hosts)
        try container.encode(exitCode, forKey: .exitCode)
        try container.encode(wallMilliseconds, forKey: .wallMilliseconds)
        try container.encode(connectionsOpened, forKey: .connectionsOpened)
        try container.encode(jumpHostConnectionsOpened, forKey: .jumpHostConnectionsOpened)
        try container.encode(peakResidentKilobytes, forKey: .peakResidentKilobytes)
        var statuses = encoder.container(keyedBy: StatusKey.self)
        for status in HostStatus.allCases {
            try statuses.encode(counts[status] ?? 0, forKey: StatusKey(status))
        }
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        hosts = try container.decode(Int.self, forKey: .hosts)
        exitCode = try container.decode(Int32.self, forKey: .exitCode)
        wallMilliseconds = try container.decode(Int.self, forKey: .wallMilliseconds)
        connectionsOpened = try container.decode(Int.self, forKey: .connectionsOpened)
        jumpHostConnectionsOpened = try container.decode(Int.self, forKey: .jumpHostConnectionsOpened)
        peakResidentKilobytes = try container.decode(Int.self, forKey: .peakResidentKilobytes)
        let statuses = try decoder.container(keyedBy: StatusKey.self)
        var counts: [HostStatus: Int] = [:]
        for status in HostStatus.allCases {
            let count = try statuses.decode(Int.self, forKey: StatusKey(status))
            if count > 0 { counts[status] = count }
        }
        self.counts = counts
    }
}

import Platform

/// `--fold`: hosts whose output is identical are printed once under their
/// compacted host list, like `clush -b`. Hosts are added as they finish; only
/// a digest per host and one copy of each distinct output are kept.
public struct FoldReport: Sendable {
    private struct Group {
        var stdout: String
        var stderr: String
        var hosts: [String]
    }

    private var groups: [Group] = []
    private var groupByDigest: [[UInt8]: Int] = [:]

    public init() {}

    public mutating func add(_ result: HostRecord) {
        guard result.commandsRun > 0 else { return }
        let digest = Digest.sha256(Array(result.stdout.text.utf8) + [0] + Array(result.stderr.text.utf8))
        if let index = groupByDigest[digest] {
            groups[index].hosts.append(result.host)
        } else {
            groupByDigest[digest] = groups.count
            groups.append(Group(stdout: result.stdout.text, stderr: result.stderr.text, hosts: [result.host]))
        }
    }

    public var text: String {
        var out = ""
        for group in groups {
            let title = "\(HostListFormatter.compact(group.hosts)) (\(group.hosts.count))"
            let rule = String(repeating: "-", count: min(max(title.count, 15), 78))
            out += "\(rule)\n\(title)\n\(rule)\n"
            out += group.stdout
            if !group.stdout.isEmpty, !group.stdout.hasSuffix("\n") { out += "\n" }
            if !group.stderr.isEmpty {
                out += group.stderr
                if !group.stderr.hasSuffix("\n") { out += "\n" }
            }
        }
        return out
    }
}

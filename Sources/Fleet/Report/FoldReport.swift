/// `--fold`: hosts whose output is identical are printed once under their
/// compacted host list, like `clush -b`.
public enum FoldReport {
    public static func render(_ results: [HostResult]) -> String {
        var groups: [(key: String, stdout: String, stderr: String, hosts: [String])] = []
        for result in results where result.commandsRun > 0 {
            let key = result.stdout.text + "\u{0}" + result.stderr.text
            if let index = groups.firstIndex(where: { $0.key == key }) {
                groups[index].hosts.append(result.host)
            } else {
                groups.append((key, result.stdout.text, result.stderr.text, [result.host]))
            }
        }
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

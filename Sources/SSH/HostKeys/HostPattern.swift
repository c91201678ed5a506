/// OpenSSH's wildcard matching (`*` and `?`), shared by known_hosts host
/// patterns and ssh_config `Host` lines.
public enum HostPattern {
    /// Whether `text` matches the glob `pattern` (case-insensitive, as OpenSSH
    /// compares host names, unless `caseSensitive`, as it compares user names).
    public static func glob(_ pattern: String, matches text: String, caseSensitive: Bool = false) -> Bool {
        let p = Array((caseSensitive ? pattern : pattern.lowercased()).utf8)
        let t = Array((caseSensitive ? text : text.lowercased()).utf8)
        var (pi, ti) = (0, 0)
        var star: Int? = nil
        var resume = 0
        while ti < t.count {
            if pi < p.count, p[pi] == UInt8(ascii: "?") || p[pi] == t[ti] {
                pi += 1
                ti += 1
            } else if pi < p.count, p[pi] == UInt8(ascii: "*") {
                star = pi
                resume = ti
                pi += 1
            } else if let s = star {
                pi = s + 1
                resume += 1
                ti = resume
            } else {
                return false
            }
        }
        while pi < p.count, p[pi] == UInt8(ascii: "*") { pi += 1 }
        return pi == p.count
    }

    /// Matches a comma-separated pattern list as OpenSSH's `match_hostname`:
    /// a matching negated pattern (`!pat`) vetoes the whole list.
    public static func list(_ patterns: [String], matches text: String, caseSensitive: Bool = false) -> Bool {
        var matched = false
        for pattern in patterns {
            if pattern.hasPrefix("!") {
                if glob(String(pattern.dropFirst()), matches: text, caseSensitive: caseSensitive) { return false }
            } else if glob(pattern, matches: text, caseSensitive: caseSensitive) {
                matched = true
            }
        }
        return matched
    }
}

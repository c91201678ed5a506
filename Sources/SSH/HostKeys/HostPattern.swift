import TextFormats

/// OpenSSH's host patterns (`*` and `?` wildcards, `!` negation), shared by known_hosts
/// lines and ssh_config `Host` lines.
public enum HostPattern {
    /// Whether `text` matches the glob `pattern` (case-insensitive, as OpenSSH
    /// compares host names, unless `caseSensitive`, as it compares user names).
    public static func glob(_ pattern: String, matches text: String, caseSensitive: Bool = false) -> Bool {
        Glob(pattern, syntax: .openSSH, caseSensitive: caseSensitive).matches(text)
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

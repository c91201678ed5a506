/// Quoting for text placed in a remote POSIX shell command line.
enum ShellQuoting {
    /// `text` in single quotes, each `'` written as `'\''`: the shell takes it literally.
    static func singleQuoted(_ text: String) -> String {
        "'" + text.split(separator: "'", omittingEmptySubsequences: false).joined(separator: "'\\''") + "'"
    }
}

/// Environment variables for remote commands (`--env`, ssh_config `SetEnv`).
/// sshd's `AcceptEnv` refuses most `env` requests, so instead each command
/// starts with `export NAME='VALUE'` in the remote user's shell, every value
/// single-quoted so nothing in it is interpreted.
public struct RemoteEnvironment: Sendable, Equatable {
    public private(set) var variables: [(name: String, value: String)] = []

    public init() {}

    public var isEmpty: Bool { variables.isEmpty }

    /// A POSIX shell variable name.
    public static func isValidName(_ name: String) -> Bool {
        guard let first = name.unicodeScalars.first, first == "_" || (first.isASCII && first.properties.isAlphabetic) else { return false }
        return name.unicodeScalars.allSatisfy { $0 == "_" || ($0.isASCII && ($0.properties.isAlphabetic || ("0"..."9").contains($0))) }
    }

    /// Sets `name`, replacing an earlier value.
    public mutating func set(_ name: String, _ value: String) {
        if let index = variables.firstIndex(where: { $0.name == name }) {
            variables[index].value = value
        } else {
            variables.append((name, value))
        }
    }

    /// `export A='x' B='it'\''s'`, or nothing.
    var exportCommand: String? {
        guard !isEmpty else { return nil }
        let assignments = variables.map { $0.name + "=" + ShellQuoting.singleQuoted($0.value) }
        return "export " + assignments.joined(separator: " ")
    }

    public static func == (lhs: RemoteEnvironment, rhs: RemoteEnvironment) -> Bool {
        lhs.variables.count == rhs.variables.count && zip(lhs.variables, rhs.variables).allSatisfy { $0.name == $1.name && $0.value == $1.value }
    }
}

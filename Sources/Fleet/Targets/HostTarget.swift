import Foundation

/// A host as named on the command line or in a hosts file: `[user@]host[:port]`
/// (IPv6 literals in brackets: `[::1]:2222`).
public struct HostTarget: Sendable, Hashable, CustomStringConvertible {
    public var host: String
    public var user: String?
    public var port: Int?

    public init(host: String, user: String? = nil, port: Int? = nil) {
        self.host = host
        self.user = user
        self.port = port
    }

    public init(parsing text: String) throws {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        guard !trimmed.isEmpty else { throw FleetError.badInput("empty host name") }
        var rest = Substring(trimmed)
        if let at = rest.lastIndex(of: "@") {
            let user = String(rest[..<at])
            guard !user.isEmpty else { throw FleetError.badInput("empty user name in '\(text)'") }
            self.user = user
            rest = rest[rest.index(after: at)...]
        }
        var portText: Substring?
        if rest.hasPrefix("[") {
            guard let close = rest.firstIndex(of: "]") else {
                throw FleetError.badInput("unclosed '[' in host '\(text)'")
            }
            host = String(rest[rest.index(after: rest.startIndex)..<close])
            let after = rest[rest.index(after: close)...]
            if !after.isEmpty {
                guard after.hasPrefix(":") else { throw FleetError.badInput("unexpected text after ']' in '\(text)'") }
                portText = after.dropFirst()
            }
        } else if let colon = rest.firstIndex(of: ":") {
            guard rest.filter({ $0 == ":" }).count == 1 else {
                throw FleetError.badInput("IPv6 address '\(text)' must be written in brackets, e.g. [::1]:22")
            }
            host = String(rest[..<colon])
            portText = rest[rest.index(after: colon)...]
        } else {
            host = String(rest)
        }
        guard !host.isEmpty else { throw FleetError.badInput("empty host name in '\(text)'") }
        let forbidden = host.first { $0.isWhitespace || $0 == "/" || $0 == "," || $0 == "@" }
        if let forbidden { throw FleetError.badInput("invalid character '\(forbidden)' in host '\(text)'") }
        if let portText {
            guard let port = Int(portText), (1...65535).contains(port) else {
                throw FleetError.badInput("invalid port '\(portText)' in '\(text)' (expected 1-65535)")
            }
            self.port = port
        }
    }

    public var description: String {
        var text = host.contains(":") ? "[\(host)]" : host
        if let user { text = "\(user)@\(text)" }
        if let port { text += ":\(port)" }
        return text
    }

    /// Parses a comma-separated list as given to `-H`.
    public static func parseList(_ list: String) throws -> [HostTarget] {
        try list.split(separator: ",", omittingEmptySubsequences: true).map { try HostTarget(parsing: String($0)) }
    }

    /// Reads a hosts file: one target per line, `#` starts a comment.
    public static func parseFile(_ path: String) throws -> [HostTarget] {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else {
            throw FleetError.badInput("\(path): cannot read hosts file")
        }
        var targets: [HostTarget] = []
        for (index, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let content = line.split(separator: "#", maxSplits: 1, omittingEmptySubsequences: false).first ?? ""
            let trimmed = content.trimmingCharacters(in: .whitespaces)
            if trimmed.isEmpty { continue }
            do {
                targets.append(try HostTarget(parsing: trimmed))
            } catch let error as FleetError {
                throw FleetError.badInput("\(path):\(index + 1): \(error)")
            }
        }
        return targets
    }
}

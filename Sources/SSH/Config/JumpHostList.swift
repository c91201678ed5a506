/// A `ProxyJump` / `-J` list as OpenSSH reads it: comma-separated hops in the
/// order they are passed through, each `[user@]host[:port]` or
/// `ssh://[user@]host[:port]` (IPv6 literals in brackets).
public struct JumpHostList: Sendable, Equatable {
    public struct Hop: Sendable, Equatable, CustomStringConvertible {
        public var user: String?
        public var host: String
        public var port: Int?

        public var description: String {
            var text = host.contains(":") ? "[\(host)]" : host
            if let user { text = "\(user)@\(text)" }
            if let port { text += ":\(port)" }
            return text
        }
    }

    public struct ParseError: Error, Sendable {
        public var message: String
    }

    public var hops: [Hop]

    /// `none` is not a list: callers check for it first.
    public init(parsing text: String) throws {
        let items = text.split(separator: ",", omittingEmptySubsequences: false)
        hops = try items.map { try Self.parseHop(String($0)) }
    }

    private static func parseHop(_ text: String) throws -> Hop {
        var rest = Substring(text)
        guard !rest.isEmpty else { throw ParseError(message: "empty host in '\(text)'") }
        if rest.lowercased().hasPrefix("ssh://") {
            rest = rest.dropFirst("ssh://".count)
            if rest.hasSuffix("/") { rest = rest.dropLast() }
            guard !rest.contains("/") else { throw ParseError(message: "a path is not allowed in '\(text)'") }
        }
        var user: String?
        if let at = rest.lastIndex(of: "@") {
            user = String(rest[..<at])
            guard !user!.isEmpty else { throw ParseError(message: "empty user in '\(text)'") }
            rest = rest[rest.index(after: at)...]
        }
        var host: Substring
        var portText: Substring?
        if rest.hasPrefix("[") {
            guard let close = rest.firstIndex(of: "]") else { throw ParseError(message: "unclosed '[' in '\(text)'") }
            host = rest[rest.index(after: rest.startIndex)..<close]
            let after = rest[rest.index(after: close)...]
            if !after.isEmpty {
                guard after.hasPrefix(":") else { throw ParseError(message: "unexpected text after ']' in '\(text)'") }
                portText = after.dropFirst()
            }
        } else if let colon = rest.firstIndex(of: ":") {
            host = rest[..<colon]
            portText = rest[rest.index(after: colon)...]
        } else {
            host = rest
        }
        guard !host.isEmpty else { throw ParseError(message: "empty host in '\(text)'") }
        if let bad = host.first(where: { $0.isWhitespace || $0 == "/" || $0 == "@" || (!rest.hasPrefix("[") && $0 == ":") }) {
            throw ParseError(message: "invalid character '\(bad)' in '\(text)'")
        }
        var port: Int?
        if let portText {
            guard let number = Int(portText), (1...65535).contains(number) else {
                throw ParseError(message: "bad port '\(portText)' in '\(text)'")
            }
            port = number
        }
        return Hop(user: user, host: String(host), port: port)
    }
}

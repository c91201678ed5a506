import Foundation

/// An OpenSSH client configuration file (`ssh_config`), read the way `ssh`
/// reads it: `Host` blocks matched against the name given on the command line
/// (with `*`, `?` and `!`), and the first value obtained for a keyword wins
/// (`IdentityFile` accumulates). Keywords Tasker does not use are ignored.
public struct SSHConfig: Sendable {
    struct Option: Sendable {
        var keyword: String
        var arguments: [String]
        var line: Int
    }

    struct Block: Sendable {
        /// nil for the options before the first `Host`, which apply to every host.
        var patterns: [String]?
        var options: [Option] = []

        func applies(to host: String) -> Bool {
            guard let patterns else { return true }
            return HostPattern.list(patterns, matches: host)
        }
    }

    public let path: String?
    let blocks: [Block]

    public static let empty = SSHConfig(path: nil, blocks: [])

    init(path: String?, blocks: [Block]) {
        self.path = path
        self.blocks = blocks
    }

    public init(contentsOf path: String) throws {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else {
            throw SSHConfigError(path: path, line: nil, message: "cannot read file")
        }
        try self.init(parsing: text, path: path)
    }

    public init(parsing text: String, path: String) throws {
        var blocks = [Block(patterns: nil)]
        for (index, raw) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let lineNumber = index + 1
            let words: [String]
            do {
                words = try Self.tokenize(String(raw))
            } catch let message as SSHConfigError.Message {
                throw SSHConfigError(path: path, line: lineNumber, message: message.text)
            }
            guard let keyword = words.first?.lowercased() else { continue }
            var arguments = Array(words.dropFirst())
            // ssh hands a command to the shell as written, quotes included.
            if keyword == "proxycommand", !arguments.isEmpty { arguments = [Self.rest(of: String(raw))] }
            switch keyword {
            case "host":
                guard !arguments.isEmpty else {
                    throw SSHConfigError(path: path, line: lineNumber, message: "Host needs at least one pattern")
                }
                blocks.append(Block(patterns: arguments))
            case "match":
                // Only `Match all` is understood; other criteria never match, so
                // their options cannot leak onto hosts they were not meant for.
                let all = arguments.map { $0.lowercased() } == ["all"]
                blocks.append(Block(patterns: all ? ["*"] : ["!*"]))
            default:
                guard !arguments.isEmpty else {
                    throw SSHConfigError(path: path, line: lineNumber, message: "\(words[0]) needs a value")
                }
                blocks[blocks.count - 1].options.append(Option(keyword: keyword, arguments: arguments, line: lineNumber))
            }
        }
        self.init(path: path, blocks: blocks)
    }

    /// The settings that apply to `host` (the name as given, before `HostName`).
    public func resolve(host: String) throws -> SSHConfigValues {
        var values = SSHConfigValues()
        var seen: Set<String> = []
        for block in blocks where block.applies(to: host) {
            for option in block.options {
                if option.keyword == "identityfile" {
                    values.identityFiles.append(option.arguments[0])
                    continue
                }
                guard !seen.contains(option.keyword) else { continue }
                seen.insert(option.keyword)
                // The first of ProxyJump and ProxyCommand decides how the host is reached.
                if option.keyword == "proxyjump" || option.keyword == "proxycommand" {
                    if values.proxyJump != nil || values.proxyCommand != nil { continue }
                }
                try apply(option, to: &values)
            }
        }
        return values
    }

    private func apply(_ option: Option, to values: inout SSHConfigValues) throws {
        let value = option.arguments[0]
        func invalid(_ what: String) -> SSHConfigError {
            SSHConfigError(path: path ?? "ssh_config", line: option.line, message: "\(what): \(value)")
        }
        switch option.keyword {
        case "hostname": values.hostName = value
        case "user": values.user = value
        case "port":
            guard let port = Int(value), (1...65535).contains(port) else { throw invalid("bad Port") }
            values.port = port
        case "identitiesonly":
            guard let flag = Self.yesNo(value) else { throw invalid("bad IdentitiesOnly") }
            values.identitiesOnly = flag
        case "userknownhostsfile":
            values.userKnownHostsFiles = option.arguments
        case "globalknownhostsfile":
            values.globalKnownHostsFiles = option.arguments
        case "stricthostkeychecking":
            switch value.lowercased() {
            case "yes", "ask": values.hostKeyPolicy = .strict
            case "accept-new": values.hostKeyPolicy = .acceptNew
            case "no", "off": values.hostKeyPolicy = .off
            default: throw invalid("bad StrictHostKeyChecking")
            }
        case "connecttimeout":
            guard let seconds = Double(value), seconds > 0 else { throw invalid("bad ConnectTimeout") }
            values.connectTimeout = seconds
        case "identityagent":
            values.identityAgent = value
        case "serveraliveinterval":
            guard let seconds = Int(value), seconds >= 0 else { throw invalid("bad ServerAliveInterval") }
            values.serverAliveInterval = seconds
        case "proxyjump":
            guard option.arguments.count == 1 else { throw invalid("ProxyJump takes one list of hosts") }
            if value.lowercased() != "none" {
                do { _ = try JumpHostList(parsing: value) } catch let error as JumpHostList.ParseError {
                    throw invalid("bad ProxyJump (\(error.message))")
                }
            }
            values.proxyJump = value
        case "proxycommand":
            values.proxyCommand = value
        case "serveralivecountmax":
            guard let count = Int(value), count >= 1 else { throw invalid("bad ServerAliveCountMax") }
            values.serverAliveCountMax = count
        default:
            break
        }
    }

    static func yesNo(_ value: String) -> Bool? {
        switch value.lowercased() {
        case "yes", "true": return true
        case "no", "false": return false
        default: return nil
        }
    }

    /// The line after its keyword and the `=` or blanks that follow it.
    static func rest(of line: String) -> String {
        var text = Substring(line).drop { $0 == " " || $0 == "\t" }
        text = text.drop { $0 != " " && $0 != "\t" && $0 != "=" }
        text = text.drop { $0 == " " || $0 == "\t" }
        if text.first == "=" { text = text.dropFirst().drop { $0 == " " || $0 == "\t" } }
        while let last = text.last, last == " " || last == "\t" || last == "\r" { text = text.dropLast() }
        return String(text)
    }

    /// Splits a line into words as OpenSSH does: whitespace or one `=` after
    /// the keyword, double quotes group words, `#` starts a comment.
    static func tokenize(_ line: String) throws -> [String] {
        var words: [String] = []
        var current = ""
        var inQuotes = false
        var hasWord = false
        for character in line {
            if inQuotes {
                if character == "\"" { inQuotes = false } else { current.append(character) }
                continue
            }
            switch character {
            case "\"":
                inQuotes = true
                hasWord = true
            case "#" where !hasWord:
                return words
            case " ", "\t", "\r":
                if hasWord { words.append(current) }
                current = ""
                hasWord = false
            case "=" where words.count == 0 && hasWord:
                words.append(current)
                current = ""
                hasWord = false
            case "=" where words.count == 1 && !hasWord && current.isEmpty:
                continue
            default:
                current.append(character)
                hasWord = true
            }
        }
        if inQuotes { throw SSHConfigError.Message(text: "unterminated quote") }
        if hasWord { words.append(current) }
        return words
    }
}

/// The options of `ssh_config` that Tasker honours, as they apply to one host.
public struct SSHConfigValues: Sendable, Equatable {
    public var hostName: String?
    public var user: String?
    public var port: Int?
    public var identityFiles: [String] = []
    public var identitiesOnly: Bool?
    public var userKnownHostsFiles: [String]?
    public var globalKnownHostsFiles: [String]?
    public var hostKeyPolicy: HostKeyPolicy?
    public var connectTimeout: Double?
    public var serverAliveInterval: Int?
    public var serverAliveCountMax: Int?
    /// `IdentityAgent`: a socket path, `none`, or `SSH_AUTH_SOCK`.
    public var identityAgent: String?
    /// `ProxyJump` as written (`none` included); only one of it and `proxyCommand` is set.
    public var proxyJump: String?
    /// `ProxyCommand` as written (`none` included).
    public var proxyCommand: String?

    public init() {}
}

public struct SSHConfigError: Error, CustomStringConvertible, Sendable {
    struct Message: Error { var text: String }

    public var path: String
    public var line: Int?
    public var message: String

    public var description: String {
        if let line { return "\(path):\(line): \(message)" }
        return "\(path): \(message)"
    }
}

import Foundation
import Glibc

/// An OpenSSH client configuration file (`ssh_config`), read the way `ssh`
/// reads it: `Host` blocks matched against the name given on the command line
/// (with `*`, `?` and `!`), `Match` blocks against what is known of the host
/// so far, `Include`d files read in place, and the first value obtained for a
/// keyword wins (`IdentityFile` accumulates). Keywords Tasker does not use are
/// ignored, except those that would change which host is reached or what runs
/// there: they are listed in `unsupported` for the caller to warn about.
public struct SSHConfig: Sendable {
    struct Option: Sendable {
        var keyword: String
        var arguments: [String]
        var path: String
        var line: Int
    }

    /// Options that apply when every condition holds: one for the block they
    /// are in, and one for each block an `Include` that read them was in.
    struct Block: Sendable {
        var conditions: [Condition] = []
        var options: [Option] = []
    }

    enum Condition: Sendable {
        case host([String])
        case match(SSHConfigMatch)
    }

    /// A keyword Tasker does not honour although it changes where or what ssh runs.
    public struct UnsupportedKeyword: Sendable, Equatable, CustomStringConvertible {
        public var keyword: String
        public var path: String
        public var line: Int
        public var description: String { "\(path):\(line): \(keyword) is not supported by Tasker and is ignored" }
    }

    /// Keywords that would change which host is reached or what runs there.
    static let unsupportedKeywords = ["RemoteCommand", "LocalCommand", "PermitLocalCommand", "Tunnel", "TunnelDevice",
                                      "ProxyUseFdpass", "CanonicalizeHostname", "LocalForward", "RemoteForward",
                                      "DynamicForward", "SessionType", "StdinNull", "ForkAfterAuthentication"]

    /// Nested `Include`s deeper than this are refused, as ssh refuses them.
    static let maximumIncludeDepth = 16

    public let path: String?
    let blocks: [Block]
    /// First use of each unsupported keyword, in the order met.
    public let unsupported: [UnsupportedKeyword]
    /// Reading untrusted text (the fuzzer): `Include` reads no file and
    /// `Match exec` runs nothing (it does not match).
    let sandboxed: Bool

    public static let empty = SSHConfig(path: nil, blocks: [], unsupported: [], sandboxed: false)

    init(path: String?, blocks: [Block], unsupported: [UnsupportedKeyword], sandboxed: Bool) {
        self.path = path
        self.blocks = blocks
        self.unsupported = unsupported
        self.sandboxed = sandboxed
    }

    /// Reads `path`; relative `Include` paths are taken from `includeDirectory`
    /// (`~/.ssh` for a user's configuration, as ssh does).
    public init(contentsOf path: String, includeDirectory: String? = nil) throws {
        var reader = Reader(includeDirectory: includeDirectory ?? Self.userDirectory, sandboxed: false)
        try reader.read(file: path, conditions: [], depth: 0)
        self.init(path: path, blocks: reader.blocks, unsupported: reader.unsupported, sandboxed: false)
    }

    /// `sandboxed`: for untrusted text; `Include` reads nothing and `Match exec` never runs.
    public init(parsing text: String, path: String, includeDirectory: String? = nil, sandboxed: Bool = false) throws {
        var reader = Reader(includeDirectory: includeDirectory ?? Self.userDirectory, sandboxed: sandboxed)
        try reader.read(text: text, path: path, conditions: [], depth: 0)
        self.init(path: path, blocks: reader.blocks, unsupported: reader.unsupported, sandboxed: sandboxed)
    }

    static var userDirectory: String {
        (ProcessInfo.processInfo.environment["HOME"] ?? NSHomeDirectory()) + "/.ssh"
    }

    /// Turns files into blocks, reading included files in place.
    private struct Reader {
        let includeDirectory: String
        let sandboxed: Bool
        var blocks: [Block] = []
        var unsupported: [UnsupportedKeyword] = []
        private var seenUnsupported: Set<String> = []

        init(includeDirectory: String, sandboxed: Bool) {
            self.includeDirectory = includeDirectory
            self.sandboxed = sandboxed
        }

        mutating func read(file path: String, conditions: [Condition], depth: Int) throws {
            // Read by handle: `-F /dev/null` (no configuration) is a common idiom.
            guard let handle = FileHandle(forReadingAtPath: path), let data = try? handle.readToEnd() ?? Data(),
                  let text = String(data: data, encoding: .utf8) else {
                throw SSHConfigError(path: path, line: nil, message: "cannot read file")
            }
            try read(text: text, path: path, conditions: conditions, depth: depth)
        }

        /// `conditions` are those of the block an `Include` of this text sits in.
        mutating func read(text: String, path: String, conditions: [Condition], depth: Int) throws {
            blocks.append(Block(conditions: conditions))
            for (index, raw) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
                let lineNumber = index + 1
                func failure(_ message: String) -> SSHConfigError {
                    SSHConfigError(path: path, line: lineNumber, message: message)
                }
                let words: [String]
                do {
                    words = try SSHConfig.tokenize(String(raw))
                } catch let message as SSHConfigError.Message {
                    throw failure(message.text)
                }
                guard let keyword = words.first?.lowercased() else { continue }
                var arguments = Array(words.dropFirst())
                switch keyword {
                case "host":
                    guard !arguments.isEmpty else { throw failure("Host needs at least one pattern") }
                    blocks.append(Block(conditions: conditions + [.host(arguments)]))
                case "match":
                    do {
                        let match = try SSHConfigMatch(arguments)
                        blocks.append(Block(conditions: conditions + [.match(match)]))
                    } catch let message as SSHConfigError.Message {
                        throw failure(message.text)
                    }
                case "include":
                    guard !arguments.isEmpty else { throw failure("Include needs a file") }
                    guard depth < SSHConfig.maximumIncludeDepth else {
                        throw failure("Include nested more than \(SSHConfig.maximumIncludeDepth) deep")
                    }
                    let enclosing = blocks[blocks.count - 1].conditions
                    for file in sandboxed ? [] : arguments.flatMap(expandInclude) {
                        try read(file: file, conditions: enclosing, depth: depth + 1)
                    }
                    // The rest of the enclosing block goes on after the included files.
                    blocks.append(Block(conditions: enclosing))
                default:
                    guard !arguments.isEmpty else { throw failure("\(words[0]) needs a value") }
                    // ssh hands a command to the shell as written, quotes included.
                    if keyword == "proxycommand" { arguments = [SSHConfig.rest(of: String(raw))] }
                    if let name = SSHConfig.unsupportedKeywords.first(where: { $0.lowercased() == keyword }),
                       !isHarmless(keyword, arguments), seenUnsupported.insert(keyword).inserted {
                        unsupported.append(UnsupportedKeyword(keyword: name, path: path, line: lineNumber))
                    }
                    blocks[blocks.count - 1].options.append(
                        Option(keyword: keyword, arguments: arguments, path: path, line: lineNumber))
                }
            }
        }

        /// Values that leave ssh's behaviour as Tasker's is (`Tunnel no`, `RemoteCommand none`, …).
        private func isHarmless(_ keyword: String, _ arguments: [String]) -> Bool {
            let value = arguments[0].lowercased()
            switch keyword {
            case "remotecommand", "localcommand": return value == "none"
            case "tunnel", "permitlocalcommand", "proxyusefdpass", "canonicalizehostname", "stdinnull",
                 "forkafterauthentication":
                return value == "no"
            case "sessiontype": return value == "default"
            default: return false
            }
        }

        /// An `Include` argument's files: `~` expanded, relative to the include
        /// directory, globbed in sorted order; a pattern that matches nothing is skipped.
        private func expandInclude(_ argument: String) -> [String] {
            var pattern = argument
            if pattern.hasPrefix("~/") {
                pattern = (ProcessInfo.processInfo.environment["HOME"] ?? NSHomeDirectory()) + pattern.dropFirst()
            } else if !pattern.hasPrefix("/") {
                pattern = includeDirectory + "/" + pattern
            }
            var matches = glob_t()
            defer { globfree(&matches) }
            guard glob(pattern, 0, nil, &matches) == 0 else { return [] }
            return (0..<Int(matches.gl_pathc)).compactMap { matches.gl_pathv[$0].map { String(cString: $0) } }
        }
    }

    /// The settings that apply to `host` (the name as given, before `HostName`).
    /// `user` is the remote user given outside ssh_config (`user@host`, `-l`),
    /// which `Match user` sees until a `User` line sets one.
    public func resolve(host: String, user: String? = nil, localUser: String? = nil) throws -> SSHConfigValues {
        var values = SSHConfigValues()
        var seen: Set<String> = []
        let context = SSHConfigMatch.Context(originalHost: host, commandLineUser: user,
                                             localUser: localUser ?? NSUserName(), runsCommands: !sandboxed)
        for block in blocks where try applies(block, host: host, values: values, context: context) {
            for option in block.options {
                if option.keyword == "identityfile" {
                    values.identityFiles.append(option.arguments[0])
                    continue
                }
                if option.keyword == "certificatefile" {
                    values.certificateFiles.append(option.arguments[0])
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

    private func applies(_ block: Block, host: String, values: SSHConfigValues,
                         context: SSHConfigMatch.Context) throws -> Bool {
        for condition in block.conditions {
            switch condition {
            case .host(let patterns):
                if !HostPattern.list(patterns, matches: host) { return false }
            case .match(let match):
                if !(try match.matches(values, context)) { return false }
            }
        }
        return true
    }

    private func apply(_ option: Option, to values: inout SSHConfigValues) throws {
        let value = option.arguments[0]
        func invalid(_ what: String) -> SSHConfigError {
            SSHConfigError(path: option.path, line: option.line, message: "\(what): \(value)")
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
        case "hostkeyalias":
            values.hostKeyAlias = value
        case "pubkeyacceptedalgorithms", "pubkeyacceptedkeytypes":
            values.pubkeyAcceptedAlgorithms = value
        case "hostkeyalgorithms":
            values.hostKeyAlgorithms = value
        case "kexalgorithms":
            values.kexAlgorithms = value
        case "ciphers":
            values.ciphers = value
        case "macs":
            values.macs = value
        case "setenv":
            // ssh keeps the first SetEnv line that applies, with all its NAME=VALUE words.
            var environment = RemoteEnvironment()
            for word in option.arguments {
                guard let equals = word.firstIndex(of: "="), RemoteEnvironment.isValidName(String(word[..<equals])) else {
                    throw invalid("bad SetEnv")
                }
                environment.set(String(word[..<equals]), String(word[word.index(after: equals)...]))
            }
            values.environment = environment
        case "passwordauthentication":
            guard let flag = Self.yesNo(value) else { throw invalid("bad PasswordAuthentication") }
            values.passwordAuthentication = flag
        case "kbdinteractiveauthentication", "challengeresponseauthentication":
            guard let flag = Self.yesNo(value) else { throw invalid("bad KbdInteractiveAuthentication") }
            values.kbdInteractiveAuthentication = flag
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

    /// `Match exec` commands run once and their answers are kept; this forgets them, so that the
    /// next resolution runs them again (a long-lived session refreshing what it knows about hosts).
    public static func forgetMatchExecResults() {
        MatchExec.forgetResults()
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
    /// `HostKeyAlias`: the name known_hosts records the host's key under.
    public var hostKeyAlias: String?
    /// `CertificateFile`s, in order (they accumulate, like `IdentityFile`).
    public var certificateFiles: [String] = []
    /// Algorithm lists as written (`+`, `-`, `^` forms included); see `AlgorithmList`.
    public var pubkeyAcceptedAlgorithms: String?
    public var hostKeyAlgorithms: String?
    public var kexAlgorithms: String?
    public var ciphers: String?
    public var macs: String?
    public var passwordAuthentication: Bool?
    /// `KbdInteractiveAuthentication` (or its old name `ChallengeResponseAuthentication`).
    public var kbdInteractiveAuthentication: Bool?
    /// `SetEnv NAME=VALUE …`: variables for the remote commands.
    public var environment = RemoteEnvironment()

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

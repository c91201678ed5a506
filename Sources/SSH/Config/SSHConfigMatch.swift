import Foundation
import Glibc
import Locking
import Platform

/// A `Match` line of ssh_config: criteria that must all hold, each possibly
/// negated with `!`. They are checked in file order against what the lines
/// before them set (`Match host` sees an earlier `HostName`, `Match user` an
/// earlier `User`), as ssh checks them.
struct SSHConfigMatch: Sendable {
    enum Criterion: Sendable {
        case all
        /// Only true in ssh's pass after host name canonicalization, which Tasker does not do.
        case canonical
        /// ssh's final pass over the file: Tasker's single pass is its final one.
        case final
        case exec(String)
        case host([String])
        case originalHost([String])
        case user([String])
        case localUser([String])
    }

    /// What the criteria are checked against besides the values set so far.
    struct Context {
        var originalHost: String
        /// The user given outside ssh_config, if any.
        var commandLineUser: String?
        var localUser: String
        /// False for untrusted configurations: `Match exec` then does not match.
        var runsCommands = true
    }

    /// A `Match exec` command that does not finish within this is taken as not matching.
    static let execTimeout = 10.0

    var criteria: [(negated: Bool, criterion: Criterion)]

    init(_ arguments: [String]) throws {
        var criteria: [(Bool, Criterion)] = []
        var index = 0
        while index < arguments.count {
            var word = arguments[index].lowercased()
            let negated = word.hasPrefix("!")
            if negated { word.removeFirst() }
            index += 1
            func value() throws -> String {
                guard index < arguments.count else { throw SSHConfigError.Message(text: "Match \(word) needs a value") }
                defer { index += 1 }
                return arguments[index]
            }
            switch word {
            case "all": criteria.append((negated, .all))
            case "canonical": criteria.append((negated, .canonical))
            case "final": criteria.append((negated, .final))
            case "exec": criteria.append((negated, .exec(try value())))
            case "host": criteria.append((negated, .host(try value().split(separator: ",").map(String.init))))
            case "originalhost": criteria.append((negated, .originalHost(try value().split(separator: ",").map(String.init))))
            case "user": criteria.append((negated, .user(try value().split(separator: ",").map(String.init))))
            case "localuser": criteria.append((negated, .localUser(try value().split(separator: ",").map(String.init))))
            default: throw SSHConfigError.Message(text: "unsupported Match criterion '\(arguments[index - 1])'")
            }
        }
        guard !criteria.isEmpty else { throw SSHConfigError.Message(text: "Match needs criteria") }
        let hasAll = criteria.contains { if case .all = $0.1 { return true } else { return false } }
        let others = criteria.filter {
            switch $0.1 {
            case .all, .canonical, .final: return false
            default: return true
            }
        }
        if hasAll, !others.isEmpty { throw SSHConfigError.Message(text: "Match all cannot be combined with other criteria") }
        self.criteria = criteria
    }

    func matches(_ values: SSHConfigValues, _ context: Context) throws -> Bool {
        let host = values.hostName.map { Self.expandHostName($0, original: context.originalHost) } ?? context.originalHost
        let user = values.user ?? context.commandLineUser ?? context.localUser
        for (negated, criterion) in criteria {
            let result: Bool
            switch criterion {
            case .all: result = true
            case .canonical: result = false
            case .final: result = true
            case .host(let patterns): result = HostPattern.list(patterns, matches: host)
            case .originalHost(let patterns): result = HostPattern.list(patterns, matches: context.originalHost)
            case .user(let patterns): result = HostPattern.list(patterns, matches: user, caseSensitive: true)
            case .localUser(let patterns): result = HostPattern.list(patterns, matches: context.localUser, caseSensitive: true)
            case .exec(let command):
                let expanded = Self.expand(command, host: host, values: values, user: user, context: context)
                result = context.runsCommands && MatchExec.succeeds(expanded, timeout: Self.execTimeout)
            }
            if result == negated { return false }
        }
        return true
    }

    private static func expandHostName(_ hostName: String, original: String) -> String {
        PercentTokens(["h": original]).expand(hostName)
    }

    /// `Match exec`'s tokens: `%h` the host so far, `%n` as given, `%p`, `%r`, `%u`, `%d`, `%%`.
    private static func expand(_ command: String, host: String, values: SSHConfigValues, user: String,
                               context: Context) -> String {
        PercentTokens(["h": host, "n": context.originalHost, "p": String(values.port ?? 22), "r": user,
                       "u": context.localUser,
                       "d": ProcessInfo.processInfo.environment["HOME"] ?? NSHomeDirectory()]).expand(command)
    }
}

/// Runs `Match exec` commands: `/bin/sh -c` with no input or output, at most
/// `timeout` seconds (then the group is killed and the criterion fails).
/// Each distinct command runs once, until a session refreshes (`SSHConfig.forgetMatchExecResults`).
enum MatchExec {
    private static let results = Locked<[String: Bool]>([:])

    /// Forgets every `Match exec` answer (a long-lived session refreshing what it knows about hosts).
    static func forgetResults() {
        results.withLock { $0.removeAll() }
    }

    static func succeeds(_ command: String, timeout: Double) -> Bool {
        if let known = results.withLock({ $0[command] }) { return known }
        let outcome = run(command, timeout: timeout)
        results.withLock { $0[command] = outcome }
        return outcome
    }

    private static func run(_ command: String, timeout: Double) -> Bool {
        // What it prints is read and dropped, so that it never blocks on a full pipe.
        guard let run = try? LocalProcess.runBlocking(["/bin/sh", "-c", command], timeout: timeout, limit: 0) else { return false }
        return !run.ending.timedOut && run.ending.exitCode == 0
    }
}

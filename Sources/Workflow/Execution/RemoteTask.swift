import Fleet
import Foundation
import Platform
import SSH
import TextFormats

/// What a task of an SSH exec type does on its host, built from its command and
/// arguments: `ssh` and `ssh_shell` run a command line; Tasker's `ssh_push`,
/// `ssh_pull` and `ssh_script` copy files or run a local script, with the
/// options `tasker push`, `pull` and `script` take:
///
/// - `exec=ssh_push`: `command=` the local sources, `arguments=[-r] [--mode M] [--preserve]
///   [--owner U] [--group G] [--checksum|--update] DEST`;
/// - `exec=ssh_pull`: `command=` the remote paths, `arguments=[-r] [--preserve] LOCAL_DIR`
///   (each host's files land in `LOCAL_DIR/<host>/`, or a `{host}` template);
/// - `exec=ssh_script`: `command=` the local script, `arguments=` its arguments.
public struct RemoteTask: Sendable {
    public enum Kind: String, Sendable {
        case command, push, pull, script
    }

    public var kind: Kind
    public var job: any HostJob
    /// How logs and dry runs show it.
    public var summary: String

    /// Nil for exec types that run on the controller. A malformed option is a `Failure`; a
    /// source that cannot be read fails each host the task runs on, with the reason.
    public static func make(execType: String, argv: [String], command: String, arguments: String,
                            timeout: Double?) throws -> RemoteTask? {
        switch execType {
        case ExecutionTypes.sshShell:
            return commandLine(arguments.isEmpty ? command : "\(command) \(arguments)")
        case ExecutionTypes.ssh:
            return commandLine(ShellWords.join(argv))
        case ExecutionTypes.sshPush:
            var request = try pushRequest(command: command, arguments: arguments)
            request.timeout = timeout
            let summary = "push \(request.sources.joined(separator: " ")) → \(request.destination)"
            return RemoteTask(kind: .push, job: prepared { try FilePush(request) }, summary: summary)
        case ExecutionTypes.sshPull:
            var request = try pullRequest(command: command, arguments: arguments)
            request.timeout = timeout
            return RemoteTask(kind: .pull, job: FilePull(request),
                              summary: "pull \(request.sources.joined(separator: " ")) → \(request.destination)")
        case ExecutionTypes.sshScript:
            let scriptArguments = try CommandLineBuilder.words(arguments)
            let summary = ShellWords.join(["script", command] + scriptArguments)
            return RemoteTask(kind: .script, job: prepared { try ScriptRun(ScriptRequest(localPath: command, arguments: scriptArguments)) },
                              summary: summary)
        default:
            return nil
        }
    }

    private static func commandLine(_ line: String) -> RemoteTask {
        RemoteTask(kind: .command, job: RemoteCommands([line]), summary: line)
    }

    private static func prepared(_ make: () throws -> any HostJob) -> any HostJob {
        do { return try make() } catch { return UnpreparedJob(reason: "\(error)") }
    }

    /// A push task's sources (its command) and `tasker push`'s options and destination (its
    /// arguments), each split into words as a shell would, without one.
    static func pushRequest(command: String, arguments: String) throws -> PushRequest {
        let sources = try CommandLineBuilder.words(command)
        var options = OptionReader(try CommandLineBuilder.words(arguments), command: "ssh_push")
        var request = PushRequest(sources: sources, destination: "")
        var checksum = false
        var update = false
        while let option = try options.next() {
            switch option.name {
            case "-r", "--recursive": request.recursive = true
            case "--preserve": request.preserveTimes = true
            case "--checksum": checksum = true
            case "--update": update = true
            case "--owner": request.owner = try options.value(of: option)
            case "--group": request.group = try options.value(of: option)
            case "--mode":
                let text = try options.value(of: option)
                guard let mode = UInt32(text, radix: 8), mode <= 0o7777 else {
                    throw CommandLineBuilder.Failure(description: "ssh_push: --mode must be octal permission bits, e.g. 0644, not '\(text)'")
                }
                request.mode = mode
            default: throw options.unknown(option)
            }
        }
        if checksum, update { throw CommandLineBuilder.Failure(description: "ssh_push: --checksum and --update cannot be combined") }
        request.skipCheck = checksum ? .checksum : update ? .sizeAndTime : .none
        request.destination = try options.single("remote destination")
        if sources.isEmpty { throw CommandLineBuilder.Failure(description: "ssh_push: command= names no local source") }
        return request
    }

    /// A pull task's remote paths (its command) and `tasker pull`'s options and local directory (its arguments).
    static func pullRequest(command: String, arguments: String) throws -> PullRequest {
        let sources = try CommandLineBuilder.words(command)
        var options = OptionReader(try CommandLineBuilder.words(arguments), command: "ssh_pull")
        var request = PullRequest(sources: sources, destination: "")
        while let option = try options.next() {
            switch option.name {
            case "-r", "--recursive": request.recursive = true
            case "--preserve": request.preserveTimes = true
            default: throw options.unknown(option)
            }
        }
        request.destination = try options.single("local directory")
        if sources.isEmpty { throw CommandLineBuilder.Failure(description: "ssh_pull: command= names no remote path") }
        return request
    }
}

/// Reads `--name`, `--name VALUE`, `--name=VALUE` and positional words.
private struct OptionReader {
    struct Option {
        var name: String
        var inlineValue: String?
    }

    private var words: ArraySlice<String>
    private let command: String
    private(set) var positional: [String] = []

    init(_ words: [String], command: String) {
        self.words = words[...]
        self.command = command
    }

    mutating func next() throws -> Option? {
        while let word = words.popFirst() {
            guard word.hasPrefix("-"), word.count > 1 else {
                positional.append(word)
                continue
            }
            if let equals = word.firstIndex(of: "="), word.hasPrefix("--") {
                return Option(name: String(word[..<equals]), inlineValue: String(word[word.index(after: equals)...]))
            }
            return Option(name: word)
        }
        return nil
    }

    mutating func value(of option: Option) throws -> String {
        if let value = option.inlineValue { return value }
        guard let value = words.popFirst() else {
            throw CommandLineBuilder.Failure(description: "\(command): \(option.name) needs a value")
        }
        return value
    }

    func unknown(_ option: Option) -> CommandLineBuilder.Failure {
        CommandLineBuilder.Failure(description: "\(command): unknown option \(option.name) in arguments")
    }

    func single(_ what: String) throws -> String {
        guard positional.count == 1 else {
            throw CommandLineBuilder.Failure(
                description: "\(command): arguments= needs exactly one \(what) after the options, got \(positional.count)")
        }
        return positional[0]
    }
}

/// A push or script whose local side could not be prepared: every host it would run on fails with the reason.
struct UnpreparedJob: HostJob {
    var reason: String

    func run(on spec: ConnectionSpec, pool: ConnectionPool, options: FleetRunOptions,
             runDeadline: Deadline, expired: RunDeadlineFlag) async -> HostRecord {
        HostRecord(host: spec.name, status: .failed, error: reason)
    }
}

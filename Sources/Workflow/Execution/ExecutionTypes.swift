import Foundation
import Yams

/// The execution-type configuration (`execution_types.yaml`): command
/// templates that wrap a task's command (`shell`, `pbrun`, …), the default
/// exec type and timeouts.
public struct ExecutionTypes: Sendable {
    public struct ExecType: Sendable, Equatable {
        public var name: String
        public var binary: String?
        public var commandTemplate: [String]
        public var timeout: Int?
        public var validationTest: ValidationTest?
    }

    public struct ValidationTest: Sendable, Equatable {
        public var command: String
        public var arguments: String
        public var expectedExit: Int?
        public var expectedOutput: String?
        public var timeout: Int?
    }

    public var types: [String: ExecType] = [:]
    public var aliases: [String: String] = [:]
    public var defaultExecType: String?
    public var defaultTimeout: Int?
    public var defaultValidationTimeout: Int?
    /// Where it was read from; nil when only `local` is available.
    public var source: String?

    public init() {}

    /// Built into Tasker: the native SSH transport, the argv quoted word by word for the remote shell.
    public static let ssh = "ssh"
    /// Built into Tasker: the native SSH transport, `command arguments` handed to the remote shell as written.
    public static let sshShell = "ssh_shell"

    /// Built into Tasker, over SFTP on the same connections: copy local files to the host,
    /// fetch files from it, run a local script there (see `RemoteTask`).
    public static let sshPush = "ssh_push"
    public static let sshPull = "ssh_pull"
    public static let sshScript = "ssh_script"
    /// Every exec type that runs over Tasker's SSH transport.
    public static let overSSH = [ssh, sshShell, sshPush, sshPull, sshScript]

    /// Whether `type` (normalised) runs over Tasker's SSH transport.
    public static func isSSH(_ type: String) -> Bool {
        overSSH.contains(type)
    }

    /// The type name after trimming, lower-casing and alias mapping.
    public func normalise(_ name: String) -> String {
        let lower = name.trimmingCharacters(in: .whitespaces).lowercased()
        return aliases[lower] ?? lower
    }

    /// The first configuration found: `explicit`, `cfg/execution_types.yaml` beside the
    /// executable, `~/.config/tasker/execution_types.yaml`, then the one shipped with Tasker.
    public static func load(explicit: String? = nil) throws -> ExecutionTypes {
        if let explicit {
            return try parse(file: explicit)
        }
        let executable = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath().deletingLastPathComponent()
        let home = ProcessInfo.processInfo.environment["HOME"] ?? NSHomeDirectory()
        for candidate in [executable.appendingPathComponent("cfg/execution_types.yaml").path,
                          home + "/.config/tasker/execution_types.yaml"]
        where FileManager.default.fileExists(atPath: candidate) {
            return try parse(file: candidate)
        }
        guard let shipped = Bundle.module.path(forResource: "execution_types", ofType: "yaml") else { return ExecutionTypes() }
        return try parse(file: shipped)
    }

    public static func parse(file: String) throws -> ExecutionTypes {
        guard let text = try? String(contentsOfFile: file, encoding: .utf8) else {
            throw TaskFileError(exitCode: 20, "\(file): cannot read the execution-type configuration")
        }
        do {
            var config = try parse(yaml: text)
            config.source = file
            return config
        } catch let error as TaskFileError {
            throw TaskFileError(exitCode: error.exitCode, "\(file): \(error.message)")
        } catch {
            throw TaskFileError(exitCode: 20, "\(file): invalid YAML: \(error)")
        }
    }

    static func parse(yaml: String) throws -> ExecutionTypes {
        guard let root = try Yams.load(yaml: yaml) as? [String: Any], let platforms = root["platforms"] as? [String: Any] else {
            throw TaskFileError(exitCode: 20, "the configuration needs a 'platforms' mapping")
        }
        var config = ExecutionTypes()
        let platform = (platforms["linux"] as? [String: Any]) ?? [:]
        config.defaultExecType = platform["default_exec_type"] as? String
        config.defaultTimeout = platform["default_timeout"] as? Int
        config.defaultValidationTimeout = platform["default_validation_timeout"] as? Int
        for (name, value) in platform {
            guard let entry = value as? [String: Any], entry["binary"] != nil || entry["command_template"] != nil else { continue }
            var test: ValidationTest?
            if let raw = entry["validation_test"] as? [String: Any], let command = raw["command"] as? String {
                test = ValidationTest(command: command, arguments: raw["arguments"].map { "\($0)" } ?? "",
                                      expectedExit: raw["expected_exit"] as? Int,
                                      expectedOutput: raw["expected_output"].map { "\($0)" }, timeout: raw["timeout"] as? Int)
            }
            config.types[name.lowercased()] = ExecType(
                name: name, binary: entry["binary"] as? String,
                commandTemplate: (entry["command_template"] as? [Any])?.map { "\($0)" } ?? [],
                timeout: entry["timeout"] as? Int, validationTest: test)
        }
        for (alias, target) in (root["aliases"] as? [String: Any]) ?? [:] {
            if let target = target as? String { config.aliases[alias.lowercased()] = target.lowercased() }
        }
        return config
    }
}

import Fleet

/// One task's result as `--output-json` and the recovery file write it, in TASKER's keys
/// (`exit_code`, `stdout`, `stderr`, `success`), with Tasker's per-host results of fan-out tasks.
struct TaskResultRecord: Codable, Equatable {
    /// One host of a fan-out task.
    struct Host: Codable, Equatable {
        var exitCode: Int
        var stdout: String
        var stderr: String
        var success: Bool
        var status: String
        var attempts: Int
        /// A rolling block's host: the step it reached.
        var step: Int?

        enum CodingKeys: String, CodingKey {
            case exitCode = "exit_code", stdout, stderr, success, status, attempts, step
        }
    }

    var exitCode: Int
    var stdout: String
    var stderr: String
    var success: Bool
    /// Fan-out tasks: each host's result by name.
    var hosts: [String: Host]?
    /// The recovery file: the hosts in inventory order (an object's keys have none).
    var hostOrder: [String]?
    /// `--output-json`: the spill files of streams that outgrew memory, and a block subtask's attempts.
    var stdoutFile: String?
    var stderrFile: String?
    var attempts: Int?

    enum CodingKeys: String, CodingKey {
        case exitCode = "exit_code", stdout, stderr, success, hosts
        case hostOrder = "host_order", stdoutFile = "stdout_file", stderrFile = "stderr_file", attempts
    }

    init(_ result: TaskResult, hostOrder: Bool = false) {
        exitCode = result.exitCode
        stdout = result.stdout
        stderr = result.stderr
        success = result.success
        if let hosts = result.hosts {
            self.hosts = Dictionary(hosts.map {
                ($0.host, Host(exitCode: $0.exitCode, stdout: $0.stdout, stderr: $0.stderr, success: $0.success, status: $0.status.rawValue,
                               attempts: $0.attempts, step: $0.step))
            }, uniquingKeysWith: { first, _ in first })
            if hostOrder { self.hostOrder = hosts.map(\.host) }
        }
    }

    /// The result it records; `field` names where it came from for a bad host status.
    func result(field: String) throws -> TaskResult {
        var hostResults: [HostTaskResult]?
        if let hosts {
            let names = hostOrder ?? hosts.keys.sorted()
            hostResults = try names.compactMap { name in
                guard let host = hosts[name] else { return nil }
                guard let status = HostTaskStatus(rawValue: host.status) else {
                    throw RecordError(field: "\(field).hosts.\(name).status", problem: "'\(host.status)' is not a host status")
                }
                return HostTaskResult(host: name, exitCode: host.exitCode, stdout: host.stdout, stderr: host.stderr, success: host.success,
                                      status: status, attempts: host.attempts, step: host.step)
            }
        }
        return TaskResult(exitCode: exitCode, stdout: stdout, stderr: stderr, success: success, hosts: hostResults)
    }
}

/// A field of a saved document that cannot be read back, by its path (`task_results.5.exit_code`).
struct RecordError: Error, CustomStringConvertible {
    var field: String
    var problem: String

    var description: String { "field '\(field)' \(problem)" }

    /// JSONDecoder's error, said by the field's path.
    init(_ error: DecodingError) {
        func path(_ context: DecodingError.Context, _ last: (any CodingKey)? = nil) -> String {
            (context.codingPath + (last.map { [$0] } ?? [])).map { $0.intValue.map(String.init) ?? $0.stringValue }.joined(separator: ".")
        }
        switch error {
        case .keyNotFound(let key, let context):
            (field, problem) = (path(context, key), "is missing")
        case .typeMismatch(let type, let context):
            (field, problem) = (path(context), "is not \(Self.name(of: type))")
        case .valueNotFound(let type, let context):
            (field, problem) = (path(context), "is null, not \(Self.name(of: type))")
        case .dataCorrupted(let context):
            (field, problem) = context.codingPath.isEmpty ? ("(document)", "is not JSON") : (path(context), "is not readable")
        @unknown default:
            (field, problem) = ("(document)", "is not readable")
        }
    }

    init(field: String, problem: String) {
        self.field = field
        self.problem = problem
    }

    private static func name(of type: Any.Type) -> String {
        switch type {
        case is Int.Type: "an integer"
        case is String.Type: "a string"
        case is Bool.Type: "true or false"
        case is Double.Type: "a number"
        default: type is any Collection.Type ? "a list or an object" : "an object"
        }
    }
}

import Fleet
import Foundation
import Locking
@testable import Workflow

/// Hosts that answer a remote command line through `behaviour`, counting what runs at once.
final class FakeHosts: TaskTransport {
    struct Call: Sendable, Equatable {
        var host: String
        var command: String
    }

    let names: [String]
    let forks: Int
    let behaviour: @Sendable (_ host: String, _ command: String) async -> CommandExit
    private struct Counters {
        var running = 0
        var peak = 0
        var calls: [Call] = []
    }
    private let counters = Locked(Counters())

    init(_ names: [String], forks: Int = 64, behaviour: @escaping @Sendable (String, String) async -> CommandExit) {
        self.names = names
        self.forks = forks
        self.behaviour = behaviour
    }

    var peak: Int { counters.withLock { $0.peak } }
    var calls: [Call] { counters.withLock { $0.calls } }
    var running: Int { counters.withLock { $0.running } }

    func hosts(matching pattern: String) throws -> (hosts: [String], warnings: [String]) {
        if pattern == "all" { return (names, []) }
        let wanted = Set(pattern.split(separator: ",").map(String.init))
        return (names.filter(wanted.contains), [])
    }

    func run(host: String, task: RemoteTask, timeout: Double?, become: TaskBecome?, fanOut: Bool, outputSubdirectory: String?,
             live: LiveLines?, events: RunEventSink?) async -> CommandExit {
        counters.withLock {
            $0.running += 1
            $0.peak = max($0.peak, $0.running)
            $0.calls.append(Call(host: host, command: task.summary))
        }
        defer { counters.withLock { $0.running -= 1 } }
        return await behaviour(host, task.summary)
    }
}

extension FakeHosts {
    static func exited(_ status: Int, _ stdout: String = "") -> CommandExit {
        CommandExit(ending: .exited, status: status, stdout: stdout, stderr: "", remote: true)
    }

    static func engine(_ text: String, hosts: FakeHosts) throws -> WorkflowEngine {
        let file = try TaskFile.parse(text, path: "fake.txt", environment: [:])
        var options = WorkflowOptions()
        options.execute = true
        options.environment = [:]
        options.executionTypes = try ExecutionTypes.load()
        options.transport = hosts
        return WorkflowEngine(file: file, options: options, log: WorkflowLog(level: .error, echo: false))
    }

    static func names(_ count: Int) -> [String] { (1...count).map { String(format: "h%02d", $0) } }
}

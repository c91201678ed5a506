import Foundation
import Glibc

/// TASKER's host validation (§17): for every remote task host, the wrapper
/// binary must exist, the name must resolve and answer a ping, and the exec
/// type's connectivity test must pass. Failures map to exit 20/21/60/61.
public struct HostValidator {
    public struct Options: Sendable {
        public var skipUnresolved = false
        public var skipCommandCheck = false
        public init() {}
    }

    public struct Failure: Error, CustomStringConvertible, Equatable {
        public var exitCode: Int32
        public var description: String
    }

    let file: TaskFile
    let config: ExecutionTypes
    let options: Options
    let defaultExecType: String?
    let environment: [String: String]
    let log: WorkflowLog

    public init(file: TaskFile, config: ExecutionTypes, options: Options, defaultExecType: String?,
                environment: [String: String], log: WorkflowLog) {
        self.file = file
        self.config = config
        self.options = options
        self.defaultExecType = defaultExecType
        self.environment = environment
        self.log = log
    }

    public func validate() async throws {
        let resolver = PlaceholderResolver(globals: file.globalValues)
        var hosts: [(name: String, types: [String])] = []
        var unresolved: [String] = []
        for task in file.tasks {
            guard let raw = task.hostname, !raw.isEmpty else { continue }
            let (hostname, resolved) = resolver.resolve(raw)
            // A placeholder left after substitution — also one a global's value names (SERVER=@HOSTNAME@,
            // hostname=@SERVER@) — is no host name: it stops validation here, before any DNS look-up.
            if !resolved || !PlaceholderResolver.globalNames(in: Array(hostname.utf8)).isEmpty {
                unresolved.append("task \(task.id): \(raw)")
                continue
            }
            // [QUIRK] no lower-casing here: only the exact text `local` is local.
            let execField = task.exec.map { resolver.resolve($0) }
            if let execField, !execField.resolved { continue }
            let written = execField?.text ?? defaultExecType ?? environment["TASK_EXECUTOR_TYPE"]
                ?? config.defaultExecType ?? "local"
            // Aliases (`bash`, `sh`, …) name their configured type here too, as at run time.
            let execType = config.aliases[written] ?? written
            // Native SSH hosts are checked when the pool connects (host key, auth, reachability).
            if execType == "local" || ExecutionTypes.isSSH(execType.lowercased()) || hostname.isEmpty { continue }
            if let index = hosts.firstIndex(where: { $0.name == hostname }) {
                if !hosts[index].types.contains(execType) { hosts[index].types.append(execType) }
            } else {
                hosts.append((hostname, [execType]))
            }
        }
        if !unresolved.isEmpty {
            if options.skipUnresolved {
                for entry in unresolved { log.warn("Hostname resolved at run time: \(entry)") }
            } else {
                throw Failure(exitCode: 20, description: "unresolved hostname placeholders: \(unresolved.joined(separator: "; ")) (use --skip-unresolved-host-validation)")
            }
        }
        if !options.skipCommandCheck {
            for type in Set(hosts.flatMap(\.types)).sorted() {
                guard let definition = config.types[type] else {
                    throw Failure(exitCode: 20, description: "execution type '\(type)' not found in configuration")
                }
                if let binary = definition.binary, Self.which(binary, path: environment["PATH"] ?? "") == nil {
                    throw Failure(exitCode: 61, description: "execution type '\(type)': binary '\(binary)' not found")
                }
            }
        }
        var dnsFailures: [String] = []
        var pingFailures: [String] = []
        var testFailures: [String] = []
        for host in hosts {
            guard Self.resolves(host.name) else {
                dnsFailures.append(host.name)
                continue
            }
            if await !Self.ping(host.name) {
                pingFailures.append(host.name)
                continue
            }
            for type in host.types {
                guard let test = config.types[type]?.validationTest else { continue }
                if await !connectivityTest(test, type: type, host: host.name) {
                    testFailures.append("\(host.name) (\(type))")
                    break
                }
            }
        }
        if !testFailures.isEmpty { throw Failure(exitCode: 61, description: "connectivity test failed for \(testFailures.joined(separator: ", "))") }
        if !pingFailures.isEmpty { throw Failure(exitCode: 60, description: "ping failed for \(pingFailures.joined(separator: ", "))") }
        if !dnsFailures.isEmpty { throw Failure(exitCode: 21, description: "cannot resolve \(dnsFailures.joined(separator: ", "))") }
        for host in hosts { log.info("Host \(host.name): validation passed") }
    }

    static func which(_ binary: String, path: String) -> String? {
        if binary.contains("/") { return FileManager.default.isExecutableFile(atPath: binary) ? binary : nil }
        for directory in path.split(separator: ":") {
            let candidate = "\(directory)/\(binary)"
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
        }
        return nil
    }

    /// An alias in /etc/hosts, or the system resolver.
    static func resolves(_ host: String) -> Bool {
        if let text = try? String(contentsOfFile: "/etc/hosts", encoding: .utf8) {
            for line in text.split(separator: "\n") where !line.trimmingCharacters(in: .whitespaces).hasPrefix("#") {
                if line.split(whereSeparator: { $0 == " " || $0 == "\t" }).dropFirst().contains(where: { $0 == host }) { return true }
            }
        }
        var result: UnsafeMutablePointer<addrinfo>?
        defer { if let result { freeaddrinfo(result) } }
        return getaddrinfo(host, nil, nil, &result) == 0
    }

    static func ping(_ host: String) async -> Bool {
        guard let exit = try? await ChildProcess.run(["ping", "-c", "1", "-W", "1", host], timeout: 5,
                                                     spillDirectory: NSTemporaryDirectory()) else { return false }
        return exit.exitCode == 0
    }

    private func connectivityTest(_ test: ExecutionTypes.ValidationTest, type: String, host: String) async -> Bool {
        guard let argv = try? CommandLineBuilder.argv(execType: type, config: config, command: test.command,
                                                      arguments: test.arguments, hostname: host) else { return false }
        var timeout = test.timeout ?? config.defaultValidationTimeout ?? 10
        if let override = environment["VALIDATION_TEST_TIMEOUT"].flatMap(PythonSemantics.int), override > 0 { timeout = override }
        if timeout <= 0 { timeout = 10 }
        guard let exit = try? await ChildProcess.run(argv, timeout: Double(timeout), spillDirectory: NSTemporaryDirectory()) else {
            return false
        }
        let exitMatches = exit.exitCode == (test.expectedExit ?? 0)
        let outputMatches = test.expectedOutput.map { exit.stdout.contains($0) } ?? true
        return exitMatches && outputMatches && !exit.timedOut
    }
}

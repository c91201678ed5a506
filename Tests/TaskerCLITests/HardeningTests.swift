import Foundation
import Glibc
import TestFleet
import XCTest

/// Tasker as an operator meets a misbehaving fleet and machine: hosts that
/// vanish, consumers that stop reading, low open-file limits. Faults are real:
/// iptables DROP inside a network namespace the test creates, an unread pipe,
/// `ulimit`.
final class HardeningTests: XCTestCase {
    private var fleet: TestFleet!
    private var directory: TemporaryDirectory!

    override func setUpWithError() throws {
        fleet = try TestFleet.shared()
        directory = try TemporaryDirectory()
    }

    private var tasker: String { TestFleet.taskerExecutable }

    /// An ssh_config that reaches `server` by its name and the fleet as usual.
    private func sshConfig(with server: TestSSHServer) throws -> String {
        let path = directory.path + "/ssh_config"
        let text = try String(contentsOfFile: server.sshConfig, encoding: .utf8)
            + (try String(contentsOfFile: fleet.sshConfig, encoding: .utf8))
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    private func jsonLines(_ text: String) throws -> [String: [String: Any]] {
        var byHost: [String: [String: Any]] = [:]
        for line in text.split(separator: "\n") {
            let object = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
            byHost[object["host"] as? String ?? "summary"] = object
        }
        return byHost
    }

    // MARK: Hosts that vanish

    func testAHostVanishingMidCommandIsReportedWithinTheProbeBoundAndTheOthersCarryOn() throws {
        let namespace = try NetworkNamespace()
        let server = try TestSSHServer(fleet: fleet, name: "vanish-exec", address: "127.0.21.3", namespace: namespace)
        defer { server.stop() }
        let config = try sshConfig(with: server)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: tasker)
        process.arguments = ["exec", "-F", config, "-H", "vanish-exec,node024", "--json",
                             "--server-alive-interval", "1", "--server-alive-count-max", "2", "--", "sleep 6; echo done"]
        let output = try TemporaryFile()
        process.standardOutput = output.handle
        process.standardError = FileHandle.nullDevice
        try process.run()
        Thread.sleep(forTimeInterval: 1.5)
        try namespace.dropTraffic(toPort: TestSSHServer.namespacePort)
        process.waitUntilExit()
        XCTAssertEqual(process.terminationStatus, 1, output.contents())
        let results = try jsonLines(output.contents())
        let lost = try XCTUnwrap(results["vanish-exec"])
        XCTAssertEqual(lost["status"] as? String, "error")
        XCTAssertEqual(lost["error"] as? String, "keepalive: no answer from host for 2s")
        XCTAssertLessThan(try XCTUnwrap(lost["run_ms"] as? Int), 5500, "1.5 s of work, then at most interval x (count + 1)")
        XCTAssertEqual(results["node024"]?["status"] as? String, "ok")
        XCTAssertEqual(results["node024"]?["stdout"] as? String, "done\n")
    }

    func testAWorkflowReconnectsAfterTheConnectionWasLostDuringChannelOpenReadAndKeepalive() throws {
        let namespace = try NetworkNamespace()
        let server = try TestSSHServer(fleet: fleet, name: "vanish-flow", address: "127.0.21.4", namespace: namespace)
        defer { server.stop() }
        let config = try sshConfig(with: server)
        let inventory = directory.path + "/inventory.ini"
        try "[lab]\nvanish-flow\n".write(toFile: inventory, atomically: true, encoding: .utf8)
        let rule = "INPUT -p tcp --dport \(TestSSHServer.namespacePort) -j DROP"
        let drop = "ip netns exec \(namespace.name) iptables -I \(rule)"
        let restore = "ip netns exec \(namespace.name) iptables -D \(rule)"
        let flow = directory.path + "/flow.txt"
        try """
            --default-exec=ssh

            task=0
            hosts=lab
            command=echo
            arguments=connected

            task=1
            hostname=localhost
            exec=shell
            command=\(drop)

            task=2
            hosts=lab
            command=echo
            arguments=opened into silence
            next=always

            task=3
            hostname=localhost
            exec=shell
            command=\(restore)

            task=4
            hosts=lab
            command=echo
            arguments=after open

            task=5
            hostname=localhost
            exec=shell
            command=(sleep 1; \(drop)) >/dev/null 2>&1 &

            task=6
            hosts=lab
            command=sleep
            arguments=20
            next=always

            task=7
            hostname=localhost
            exec=shell
            command=\(restore)

            task=8
            hosts=lab
            command=echo
            arguments=after read

            task=9
            hostname=localhost
            exec=shell
            command=\(drop) && sleep 4 && \(restore)

            task=10
            hosts=lab
            command=echo
            arguments=after keepalive
            """.write(toFile: flow, atomically: true, encoding: .utf8)
        let report = directory.path + "/report.json"
        let result = try ProcessRunner.run(tasker, ["-r", flow, "-F", config, "-i", inventory, "-l", directory.path + "/logs",
                                                    "--server-alive-interval", "1", "--server-alive-count-max", "2",
                                                    "--output-json=\(report)"], timeout: 120)
        XCTAssertEqual(result.status, 0, result.stdout + result.stderr)
        let object = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: report))) as? [String: Any])
        let tasks = try XCTUnwrap(object["task_results"] as? [String: [String: Any]])
        func host(_ task: String) -> [String: Any]? {
            (tasks[task]?["hosts"] as? [String: [String: Any]])?["vanish-flow"]
        }
        for lost in ["2", "6"] {
            XCTAssertEqual(host(lost)?["status"] as? String, "error", "task \(lost): \(String(describing: host(lost)))")
            XCTAssertTrue((host(lost)?["stderr"] as? String)?.contains("no answer from host for 2s") ?? false,
                          "task \(lost): \(String(describing: host(lost)))")
        }
        for recovered in ["4", "8", "10"] {
            XCTAssertEqual(host(recovered)?["status"] as? String, "ok", "task \(recovered) reconnects")
        }
        XCTAssertEqual(host("10")?["stdout"] as? String, "after keepalive\n")
        XCTAssertTrue(result.stdout.contains("SSH: 4 connection(s) opened, 3 reconnect(s)"), result.stdout)
        XCTAssertGreaterThanOrEqual(server.acceptedLogins(), 4)
    }

    func testEveryAddressOfANameIsTriedUntilOneConnects() throws {
        // Inside a namespace, /etc/netns/NAME/hosts is the name service: the name's first
        // address (IPv6 ::1) refuses, the second (127.0.0.1) is the server.
        let namespace = try NetworkNamespace()
        let server = try TestSSHServer(fleet: fleet, name: "dual-stack", address: "127.0.21.6", namespace: namespace)
        defer { server.stop() }
        let hostsDirectory = "/etc/netns/\(namespace.name)"
        try FileManager.default.createDirectory(atPath: hostsDirectory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: hostsDirectory) }
        try "::1 twice.test\n127.0.0.1 twice.test\n".write(toFile: hostsDirectory + "/hosts", atomically: true, encoding: .utf8)
        let order = try namespace.run(["/usr/bin/getent", "ahosts", "twice.test"]).stdout
        XCTAssertTrue(order.hasPrefix("::1 "), "the refusing address comes first: \(order)")
        let result = try namespace.run([tasker, "exec", "-H", "twice.test:\(TestSSHServer.namespacePort)", "-l", NSUserName(),
                                        "-k", fleet.clientKey, "--host-key-policy", "off", "--", "echo reached"])
        XCTAssertEqual(result.status, 0, result.stderr)
        XCTAssertEqual(result.stdout, "twice.test:\(TestSSHServer.namespacePort): reached\n")
    }

    // MARK: A consumer that stops reading

    func testASlowOutputConsumerHoldsBackOnlyItsHostsWhileTimeoutsFireOnTime() throws {
        let marker = "44.\(Int.random(in: 100...999))"
        // node013 floods its output; node014 is silent. Both get --timeout 3.
        let command = "case $SSH_CONNECTION in *\(TestFleet.address(13))*) yes line-\(marker) | head -c 400000000;; *) sleep \(marker);; esac"
        let process = Process()
        process.executableURL = URL(fileURLWithPath: tasker)
        process.arguments = ["exec", "-F", fleet.sshConfig, "-H", "node013,node014", "--timeout", "3", "--", command]
        let stdout = Pipe()
        let stderr = try TemporaryFile()
        process.standardOutput = stdout
        process.standardError = stderr.handle
        let started = Date()
        try process.run()
        // Nobody reads stdout: the pipe fills and the writer thread blocks on it.
        XCTAssertEqual(try ProcessTable.waitFor("^sleep \(marker)", atLeast: 1), 1)
        var killedAfter: Double?
        var peakResident = 0
        while Date().timeIntervalSince(started) < 8 {
            peakResident = max(peakResident, residentKilobytes(process.processIdentifier))
            if killedAfter == nil, try ProcessTable.count("^sleep \(marker)") == 0 {
                killedAfter = Date().timeIntervalSince(started)
            }
            Thread.sleep(forTimeInterval: 0.1)
        }
        let seconds = try XCTUnwrap(killedAfter, "the silent host's timeout must fire while stdout is not read")
        XCTAssertLessThan(seconds, 5, "killed on time")
        XCTAssertTrue(process.isRunning, "the run itself waits for its output to be read")
        XCTAssertLessThan(peakResident, TestFleet.memoryLimit(kilobytes: 120 * 1024), "output that cannot be written is not read either")
        XCTAssertEqual(try ProcessTable.count("^yes line-\(marker)"), 0, "the flooding host's timeout fired too")
        // Read everything now; the run completes and reports both timeouts.
        let drained = DispatchSemaphore(value: 0)
        Thread {
            _ = stdout.fileHandleForReading.readDataToEndOfFile()
            drained.signal()
        }.start()
        process.waitUntilExit()
        drained.wait()
        XCTAssertEqual(process.terminationStatus, 4, stderr.contents())
        XCTAssertTrue(stderr.contents().contains("node014: timeout"), stderr.contents())
        XCTAssertTrue(stderr.contents().contains("node013: timeout"), stderr.contents())
    }

    // MARK: Memory over long runs and large outputs

    func testTwentyThousandCommandsOverFiftyConnectionsKeepMemoryFlat() throws {
        // 400 commands per host; the last one waits, so the process is still there to be measured.
        let commands = Array(repeating: ["-c", "echo soak"], count: 399).flatMap { $0 } + ["-c", "sleep 2"]
        let process = Process()
        process.executableURL = URL(fileURLWithPath: tasker)
        process.arguments = ["exec", "-F", fleet.sshConfig, "-H", (1...50).map(TestFleet.name).joined(separator: ","),
                             "--forks", "50"] + commands
        let stdout = Pipe()
        process.standardOutput = stdout
        process.standardError = FileHandle.nullDevice
        try process.run()
        var lines = 0
        var early = 0
        var late = 0
        var pending = Data()
        while late == 0 {
            let chunk = stdout.fileHandleForReading.availableData
            if chunk.isEmpty { break }
            pending.append(chunk)
            while let newline = pending.firstIndex(of: UInt8(ascii: "\n")) {
                pending.removeSubrange(...newline)
                lines += 1
                if lines == 2_000 { early = residentKilobytes(process.processIdentifier) }
                if lines == 50 * 399 { late = residentKilobytes(process.processIdentifier) }
            }
        }
        _ = stdout.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        XCTAssertEqual(process.terminationStatus, 0)
        XCTAssertEqual(lines, 50 * 399)
        XCTAssertGreaterThan(early, 0)
        if TestFleet.sanitizer == nil {
            XCTAssertLessThan(Double(late), Double(early) * 1.10, "RSS after 2,000 commands \(early) KiB, after 19,950 \(late) KiB")
        }
    }

    func testBinaryOutputKeepsCountsExactAndMemoryFlat() throws {
        // 512 MiB of random bytes (most of it invalid UTF-8) on stdout and 64 MiB on stderr.
        let command = "head -c 536870912 /dev/urandom; head -c 67108864 /dev/urandom >&2"
        let result = try ProcessRunner.run("/usr/bin/time", ["-f", "%M", tasker, "exec", "-F", fleet.sshConfig, "-H", "node015",
                                                            "--json", "--", command], timeout: 300)
        XCTAssertEqual(result.status, 0, result.stderr)
        let host = try XCTUnwrap(jsonLines(result.stdout)["node015"])
        XCTAssertEqual(host["stdout_bytes"] as? Int, 536_870_912)
        XCTAssertEqual(host["stderr_bytes"] as? Int, 67_108_864)
        XCTAssertEqual(host["stdout_truncated"] as? Bool, true)
        XCTAssertNotNil(host["stdout"] as? String, "invalid UTF-8 is replaced, the JSON stays valid")
        let peak = Int(result.stderr.split(separator: "\n").last ?? "") ?? .max
        XCTAssertLessThan(peak, TestFleet.memoryLimit(kilobytes: 100 * 1024), "peak RSS \(peak) KiB")
    }

    // MARK: Open-file limits

    func testSixtyHostsRunUnderALowSoftOpenFileLimit() throws {
        let hosts = (1...60).map(TestFleet.name).joined(separator: ",")
        let run = "ulimit -S -n 32 && exec \(tasker) exec -F \(fleet.sshConfig) -H \(hosts) --forks 64 --json -- true"
        let result = try ProcessRunner.run("/bin/bash", ["-c", run], timeout: 120)
        XCTAssertEqual(result.status, 0, result.stderr)
        let summary = try XCTUnwrap(jsonLines(result.stdout)["summary"])
        XCTAssertEqual(summary["ok"] as? Int, 60)
        XCTAssertFalse(result.stderr.contains("warning"), "the soft limit is raised to the hard limit: \(result.stderr)")
    }

    func testAHardOpenFileLimitBelowTheRunLowersConcurrencyInsteadOfFailingHosts() throws {
        let hosts = (1...60).map(TestFleet.name).joined(separator: ",")
        let run = "ulimit -n 40 && exec \(tasker) exec -F \(fleet.sshConfig) -H \(hosts) --forks 64 --json -- true"
        let result = try ProcessRunner.run("/bin/bash", ["-c", run], timeout: 120)
        XCTAssertEqual(result.status, 0, result.stderr)
        XCTAssertEqual(try XCTUnwrap(jsonLines(result.stdout)["summary"])["ok"] as? Int, 60)
        let warnings = result.stderr.split(separator: "\n").filter { $0.contains("open-file limit (40) allows") }
        XCTAssertEqual(warnings.count, 1, "said once: \(result.stderr)")

        // A workflow keeps connections between steps: the pool closes idle ones to stay within the limit.
        let flow = directory.path + "/wide.txt"
        try "task=0\nhosts=fleet[0:59]\nexec=ssh\ncommand=true\n\ntask=1\nhosts=fleet[0:59]\nexec=ssh\ncommand=true\n"
            .write(toFile: flow, atomically: true, encoding: .utf8)
        let workflow = try ProcessRunner.run("/bin/bash", ["-c",
            "ulimit -n 40 && exec \(tasker) -r \(flow) -F \(fleet.sshConfig) -i \(fleet.inventory) -l \(directory.path)/logs"], timeout: 120)
        XCTAssertEqual(workflow.status, 0, workflow.stdout + workflow.stderr)
        XCTAssertTrue(workflow.stdout.contains("hosts=fleet[0:59]: 60/60 successful"), workflow.stdout)

        let tooLow = try ProcessRunner.run("/bin/bash", ["-c", "ulimit -n 12 && exec \(tasker) exec -F \(fleet.sshConfig) -H node001 -- true"])
        XCTAssertEqual(tooLow.status, 2)
        XCTAssertEqual(tooLow.stderr.split(separator: "\n").count, 1, tooLow.stderr)
        XCTAssertTrue(tooLow.stderr.contains("ulimit -n"), tooLow.stderr)
    }

    func testAMistypedRangeIsRefusedAtOnce() throws {
        let inventory = directory.path + "/huge.ini"
        try "[web]\nweb[1:50000000]\n".write(toFile: inventory, atomically: true, encoding: .utf8)
        let result = try ProcessRunner.run("/usr/bin/time", ["-f", "%M", tasker, "inventory", "-i", inventory, "--list"], timeout: 60)
        XCTAssertEqual(result.status, 2)
        let lines = result.stderr.split(separator: "\n")
        XCTAssertEqual(lines.first.map(String.init),
                       "tasker: inventory \(inventory):2: host pattern 'web[1:50000000]' expands to 50000000 hosts; an inventory source may define at most 1000000")
        XCTAssertLessThan(result.seconds, 5)
        XCTAssertLessThan(Int(lines.last ?? "") ?? .max, TestFleet.memoryLimit(kilobytes: 100 * 1024), "peak RSS in KiB")
    }

    // MARK: Command line

    func testOutputJSONAfterTheDoubleDashBelongsToTheRemoteCommand() throws {
        let result = try ProcessRunner.run(tasker, ["exec", "-F", fleet.sshConfig, "-H", "node001", "--", "echo", "--output-json"])
        XCTAssertEqual(result.status, 0, result.stderr)
        XCTAssertEqual(result.stdout, "node001: --output-json\n")
    }

    private func residentKilobytes(_ pid: Int32) -> Int {
        guard let status = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8),
              let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmRSS:") }) else { return 0 }
        return Int(line.split(separator: " ")[1]) ?? 0
    }
}

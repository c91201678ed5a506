import Foundation
import TestFleet
import XCTest

/// `tasker exec` reaching hosts that only a bastion can see: targets' sshd
/// inside a network namespace, the bastion's reached through a forwarder.
final class JumpHostTests: XCTestCase {
    private var fleet: TestFleet!

    override func setUpWithError() throws {
        fleet = try TestFleet.shared()
    }

    private func exec(_ config: String, _ arguments: [String], timeout: Double = 120) throws -> ProcessRunner.Result {
        try ProcessRunner.run(TestFleet.taskerExecutable, ["exec", "-F", config] + arguments, timeout: timeout)
    }

    /// Host results by name, and the summary line.
    private func results(_ text: String) throws -> (hosts: [String: [String: Any]], summary: [String: Any]) {
        var hosts: [String: [String: Any]] = [:]
        var summary: [String: Any] = [:]
        for line in text.split(separator: "\n") {
            let object = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any], String(line))
            if object["type"] as? String == "summary" { summary = object } else { hosts[object["host"] as! String] = object }
        }
        return (hosts, summary)
    }

    func testProxyJumpInSSHConfigReachesTargetsADirectConnectionCannot() throws {
        let hosts = try BastionFleet(fleet: fleet, bastionAddress: "127.0.22.11", targetCount: 3, proxyJumpInConfig: true)
        defer { hosts.stop() }
        let direct = try exec(hosts.sshConfig, ["-J", "none", "-H", "t001", "--json", "--", "true"])
        XCTAssertEqual(try results(direct.stdout).hosts["t001"]?["status"] as? String, "unreachable", direct.stdout)
        XCTAssertEqual(hosts.targetLogins, 0)

        let result = try exec(hosts.sshConfig, ["-H", "t001,t002,t003", "--json", "--", "echo $SSH_CONNECTION"])
        XCTAssertEqual(result.status, 0, result.stdout + result.stderr)
        let (byHost, summary) = try results(result.stdout)
        for index in 1...3 {
            let host = try XCTUnwrap(byHost[BastionFleet.targetName(index)])
            XCTAssertEqual(host["status"] as? String, "ok")
            XCTAssertEqual(host["via"] as? [String], ["bastion1"])
            // sshd inside the namespace saw the connection arrive at the target's own address.
            let words = (host["stdout"] as? String ?? "").split(separator: " ")
            XCTAssertEqual(words.count, 4, "\(host)")
            XCTAssertEqual(words.count == 4 ? String(words[2]) : "", BastionFleet.targetAddress(index))
        }
        XCTAssertEqual(summary["jump_host_connections_opened"] as? Int, 1)
        XCTAssertEqual(hosts.bastionLogins, 1, "one bastion connection carries every target")
        XCTAssertEqual(hosts.targetLogins, 3)
    }

    func testAHundredTargetsThroughOneBastionOpenAtMostOneConnectionPerTunnelQuota() throws {
        let hosts = try BastionFleet(fleet: fleet, bastionAddress: "127.0.22.12", targetCount: 100)
        defer { hosts.stop() }
        let targets = hosts.targetNames.joined(separator: ",")
        let result = try exec(hosts.sshConfig, ["-J", "bastion1", "--tunnels-per-jump-connection", "25",
                                                "-H", targets, "--json", "--", "echo ok"])
        XCTAssertEqual(result.status, 0, result.stderr)
        let (byHost, summary) = try results(result.stdout)
        XCTAssertEqual(byHost.count, 100)
        XCTAssertTrue(byHost.values.allSatisfy { $0["status"] as? String == "ok" && $0["stdout"] as? String == "ok\n" })
        XCTAssertEqual(summary["ok"] as? Int, 100)
        XCTAssertGreaterThanOrEqual(hosts.bastionLogins, 1)
        XCTAssertLessThanOrEqual(hosts.bastionLogins, 4, "ceil(100 / 25) bastion connections at most")
        XCTAssertEqual(hosts.targetLogins, 100)
    }

    func testTargetsWaitingForATunnelAreNotTimedOutByTheConnectTimeout() throws {
        let hosts = try BastionFleet(fleet: fleet, bastionAddress: "127.0.22.23", targetCount: 4, proxyJumpInConfig: true)
        defer { hosts.stop() }
        // One tunnel at a time: the fourth target waits about 3 s, longer than --connect-timeout.
        let result = try exec(hosts.sshConfig, ["--tunnels-per-jump-connection", "1", "--max-jump-connections", "1",
                                                "--connect-timeout", "2", "-H", hosts.targetNames.joined(separator: ","),
                                                "--json", "--", "sleep 1"])
        XCTAssertEqual(result.status, 0, result.stdout + result.stderr)
        let (_, summary) = try results(result.stdout)
        XCTAssertEqual(summary["ok"] as? Int, 4)
        XCTAssertEqual(hosts.bastionLogins, 1)
        XCTAssertGreaterThanOrEqual(summary["wall_ms"] as? Int ?? 0, 4000, "the targets took turns on the one tunnel")
    }

    func testJumpHostsFromInventorySSHArguments() throws {
        let hosts = try BastionFleet(fleet: fleet, bastionAddress: "127.0.22.13", targetCount: 4)
        defer { hosts.stop() }
        let inventory = "\(hosts.directory)/inventory.ini"
        try """
            [behind_j]
            t001
            t002
            [behind_j:vars]
            ansible_ssh_common_args='-J bastion1'
            [behind_o]
            t003
            t004 ansible_ssh_extra_args="-o ProxyJump=bastion1"
            [behind_o:vars]
            ansible_ssh_common_args='-o StrictHostKeyChecking=no'

            """.write(toFile: inventory, atomically: true, encoding: .utf8)
        let result = try exec(hosts.sshConfig, ["-i", inventory, "all", "--json", "--", "true"])
        let (byHost, _) = try results(result.stdout)
        XCTAssertEqual(byHost.count, 4)
        for name in ["t001", "t002", "t004"] {
            XCTAssertEqual(byHost[name]?["status"] as? String, "ok", "\(name): \(byHost[name] ?? [:])")
            XCTAssertEqual(byHost[name]?["via"] as? [String], ["bastion1"])
        }
        // t003 has only an ssh option Tasker does not take: it is dialled directly, with a warning.
        XCTAssertEqual(byHost["t003"]?["status"] as? String, "unreachable")
        // One warning for the group's hosts that share the ignored option.
        XCTAssertTrue(result.stderr.contains("2 hosts t003, t004: ansible_ssh_common_args: -o StrictHostKeyChecking=no ignored"), result.stderr)
        XCTAssertFalse(result.stderr.contains("host t001"), result.stderr)
    }

    func testAWrongKeyOnTheBastionFailsEveryTargetAsAuthFailedNamingTheBastion() throws {
        let hosts = try BastionFleet(fleet: fleet, bastionAddress: "127.0.22.14", targetCount: 5)
        defer { hosts.stop() }
        let wrongKey = "\(hosts.directory)/wrong_ed25519"
        try? FileManager.default.removeItem(atPath: wrongKey)
        _ = try ProcessRunner.run("/usr/bin/ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-f", wrongKey])
        let config = "\(hosts.directory)/wrong-key-config"
        try hosts.writeSSHConfig(to: config, proxyJump: true, bastionKey: wrongKey)
        let result = try exec(config, ["-H", hosts.targetNames.joined(separator: ","), "--json", "--", "true"])
        XCTAssertEqual(result.status, 3, result.stdout + result.stderr)
        let (byHost, _) = try results(result.stdout)
        XCTAssertEqual(byHost.count, 5)
        for host in byHost.values {
            XCTAssertEqual(host["status"] as? String, "auth_failed", "\(host)")
            XCTAssertTrue((host["error"] as? String ?? "").contains("jump host bastion1: "), "\(host)")
        }
        XCTAssertEqual(hosts.targetLogins, 0)
    }

    func testATargetTheBastionCannotReachFailsAloneNamingTheBastion() throws {
        let hosts = try BastionFleet(fleet: fleet, bastionAddress: "127.0.22.15", targetCount: 2)
        defer { hosts.stop() }
        let result = try exec(hosts.sshConfig, ["-J", "bastion1", "-H", "t001,t002,127.0.1.3:2999", "--json", "--", "true"])
        let (byHost, _) = try results(result.stdout)
        XCTAssertEqual(byHost["t001"]?["status"] as? String, "ok")
        XCTAssertEqual(byHost["t002"]?["status"] as? String, "ok")
        let dead = try XCTUnwrap(byHost["127.0.1.3:2999"])
        XCTAssertEqual(dead["status"] as? String, "unreachable")
        XCTAssertTrue((dead["error"] as? String ?? "").contains("bastion1 could not open a tunnel to 127.0.1.3:2999 (connect failed)"), "\(dead)")
    }

    func testATimeoutKillsTheRemoteProcessBehindTheBastion() throws {
        let hosts = try BastionFleet(fleet: fleet, bastionAddress: "127.0.22.16", targetCount: 1, proxyJumpInConfig: true)
        defer { hosts.stop() }
        let marker = "sleep 3\(Int.random(in: 10000...99999))"
        let result = try exec(hosts.sshConfig, ["-H", "t001", "--timeout", "1", "--json", "--", marker])
        XCTAssertEqual(try results(result.stdout).hosts["t001"]?["status"] as? String, "timeout", result.stdout)
        var left = ""
        for _ in 0..<50 {
            left = try ProcessRunner.run("/usr/bin/pgrep", ["-f", marker]).stdout
            if left.isEmpty { break }
            usleep(100_000)
        }
        XCTAssertEqual(left, "", "the remote sleep was killed through the tunnel")
    }

    func testCtrlCKillsTheRemoteCommandsBehindTheBastion() throws {
        let hosts = try BastionFleet(fleet: fleet, bastionAddress: "127.0.22.22", targetCount: 3, proxyJumpInConfig: true)
        defer { hosts.stop() }
        let marker = "43.\(Int.random(in: 100...999))"
        let process = Process()
        process.executableURL = URL(fileURLWithPath: TestFleet.taskerExecutable)
        process.arguments = ["exec", "-F", hosts.sshConfig, "-H", "t001,t002,t003", "--", "sleep \(marker)"]
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        XCTAssertGreaterThanOrEqual(try ProcessTable.waitFor("sleep \(marker)", atLeast: 3), 3)
        kill(process.processIdentifier, SIGINT)
        process.waitUntilExit()
        XCTAssertEqual(process.terminationStatus, 130)
        XCTAssertEqual(try ProcessTable.count("sleep \(marker)"), 0, "killed through the tunnels before Tasker exited")
    }

    func testKillingTheBastionMidRunFailsItsTargetsWithAReasonAndNothingHangs() throws {
        let hosts = try BastionFleet(fleet: fleet, bastionAddress: "127.0.22.17", targetCount: 3, proxyJumpInConfig: true)
        defer { hosts.stop() }
        let bastion = hosts.bastion
        let killer = Thread {
            for _ in 0..<100 {
                if hosts.targetLogins >= 3 { break }
                usleep(50_000)
            }
            usleep(300_000)
            signalProcesses((try? bastion.sessionProcesses()) ?? [], "KILL")
        }
        killer.start()
        let started = Date()
        let result = try exec(hosts.sshConfig, ["-H", "t001,t002,t003", "--json", "--", "sleep 30"], timeout: 60)
        XCTAssertLessThan(Date().timeIntervalSince(started), 25)
        let (byHost, _) = try results(result.stdout)
        XCTAssertEqual(byHost.count, 3)
        for host in byHost.values {
            XCTAssertEqual(host["status"] as? String, "error", "\(host)")
            XCTAssertTrue((host["error"] as? String ?? "").contains("connection lost via bastion1: bastion1 closed the connection"), "\(host)")
        }
    }

    func testAFiveStepWorkflowOverTwentyTargetsBehindABastionReusesItsConnections() throws {
        let hosts = try BastionFleet(fleet: fleet, bastionAddress: "127.0.22.18", targetCount: 20)
        defer { hosts.stop() }
        let inventory = "\(hosts.directory)/workflow-inventory.ini"
        try ("[behind]\n" + hosts.targetNames.joined(separator: "\n") + "\n")
            .write(toFile: inventory, atomically: true, encoding: .utf8)
        let flow = "\(hosts.directory)/flow.txt"
        try """
            --default-exec=ssh

            task=0
            hosts=behind
            command=echo
            arguments=one @inventory_hostname@

            task=1
            hosts=behind
            exec=ssh_shell
            command=echo
            arguments=$((6 * 7))

            task=2
            hosts=behind
            command=true

            task=3
            hostname=t007
            command=echo
            arguments=@0_stdout[t007]@

            task=4
            hosts=@1_succeeded_hosts@
            command=true

            """.write(toFile: flow, atomically: true, encoding: .utf8)
        let json = "\(hosts.directory)/report.json"
        let result = try ProcessRunner.run(TestFleet.taskerExecutable,
                                           ["-r", flow, "-J", "bastion1", "-F", hosts.sshConfig, "-i", inventory,
                                            "-l", hosts.directory + "/logs", "--output-json=\(json)"], timeout: 120)
        XCTAssertEqual(result.status, 0, result.stdout + result.stderr)
        let object = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: json))) as? [String: Any])
        let results = try XCTUnwrap(object["task_results"] as? [String: [String: Any]])
        XCTAssertEqual(results["0"]?["stdout"] as? String, "hosts=behind: 20/20 successful")
        XCTAssertEqual(results["3"]?["stdout"] as? String, "one t007\n")
        XCTAssertEqual(try XCTUnwrap(results["4"]?["hosts"] as? [String: Any]).count, 20)
        XCTAssertTrue(result.stdout.contains("SSH: 20 connection(s) opened, 0 reconnect(s), 2 to jump hosts"), result.stdout)
        XCTAssertTrue((1...3).contains(hosts.bastionLogins), "\(hosts.bastionLogins) bastion connections")
        XCTAssertEqual(hosts.targetLogins, 20, "one session per target for all five tasks")
    }

    func testTwoHopsFromSSHConfigAndFromTheCommandLine() throws {
        let outer = try BastionFleet(fleet: fleet, bastionAddress: "127.0.22.19", targetCount: 1)
        defer { outer.stop() }
        let inner = try BastionFleet(fleet: fleet, bastionName: "bastion2", bastionAddress: "127.0.5.1", targetCount: 3,
                                     proxyJumpInConfig: true, behind: outer)
        defer { inner.stop() }
        let result = try exec(inner.sshConfig, ["-H", "t001,t002,t003", "--json", "--", "echo $SSH_CONNECTION"])
        XCTAssertEqual(result.status, 0, result.stdout + result.stderr)
        let (byHost, summary) = try results(result.stdout)
        for name in ["t001", "t002", "t003"] {
            XCTAssertEqual(byHost[name]?["status"] as? String, "ok", "\(byHost[name] ?? [:])")
            XCTAssertEqual(byHost[name]?["via"] as? [String], ["bastion1", "bastion2"])
        }
        XCTAssertEqual(summary["jump_host_connections_opened"] as? Int, 2)
        XCTAssertEqual(outer.bastionLogins, 1)
        XCTAssertEqual(inner.bastionLogins, 1, "the second hop is one connection, through the first")
        XCTAssertEqual(inner.targetLogins, 3)
        XCTAssertEqual(outer.targetLogins, 0, "the targets answered from the inner namespace")

        let explicit = try exec(inner.sshConfig, ["-J", "bastion1,bastion2", "-H", "t002", "--json", "--", "true"])
        XCTAssertEqual(try results(explicit.stdout).hosts["t002"]?["via"] as? [String], ["bastion1", "bastion2"])
        XCTAssertEqual(explicit.status, 0, explicit.stdout + explicit.stderr)
        // With -J bastion2 alone, the first hop is reached as its own ssh_config says: through bastion1.
        let firstHopOwnJump = try exec(inner.sshConfig, ["-J", "bastion2", "-H", "t001", "--json", "--", "true"])
        XCTAssertEqual(try results(firstHopOwnJump.stdout).hosts["t001"]?["via"] as? [String], ["bastion1", "bastion2"])
    }

    func testProxyCommandWithSSHMinusWAndWithNetcat() throws {
        let hosts = try BastionFleet(fleet: fleet, bastionAddress: "127.0.22.20", targetCount: 3)
        defer { hosts.stop() }
        let base = try String(contentsOfFile: hosts.sshConfig, encoding: .utf8)
        let config = "\(hosts.directory)/proxycommand-config"
        // ssh reads the same config for the bastion; nc runs inside the namespace, next to the targets.
        try """
            Host t001
                ProxyCommand ssh -F \(config) -W %h:%p \(hosts.bastionName)
            Host t002
                ProxyCommand ip netns exec \(hosts.namespace.name) nc %h %p
            Host t003
                ProxyCommand sh -c 'echo no route to %n >&2; exit 1'

            """.appending(base).write(toFile: config, atomically: true, encoding: .utf8)
        let result = try exec(config, ["-H", "t001,t002,t003", "--json", "--", "echo $SSH_CONNECTION"])
        let (byHost, _) = try results(result.stdout)
        for (index, name) in ["t001", "t002"].enumerated() {
            let host = try XCTUnwrap(byHost[name])
            XCTAssertEqual(host["status"] as? String, "ok", "\(host)")
            XCTAssertEqual((host["stdout"] as? String)?.split(separator: " ").dropFirst(2).first.map(String.init),
                           BastionFleet.targetAddress(index + 1), "\(host)")
        }
        let failed = try XCTUnwrap(byHost["t003"])
        XCTAssertEqual(failed["status"] as? String, "unreachable")
        XCTAssertTrue((failed["error"] as? String ?? "").contains("ProxyCommand said: no route to t003"), "\(failed)")
        XCTAssertEqual(hosts.targetLogins, 2)
        // Every ProxyCommand child is gone once the run is over.
        let left = try ProcessRunner.run("/usr/bin/pgrep", ["-f", "proxycommand-config -W|nc 127.0.1.2 2223"]).stdout
        XCTAssertEqual(left, "")

        // A chatty ProxyCommand (1 MB on stderr, far past a socket buffer) is drained, not stalled.
        try """
            Host t002
                ProxyCommand sh -c 'head -c 1000000 /dev/zero | tr "\\\\000" x >&2; echo last words >&2; exec ip netns exec \(hosts.namespace.name) nc %h %p'

            """.appending(base).write(toFile: config, atomically: true, encoding: .utf8)
        let chatty = try exec(config, ["-H", "t002", "--connect-timeout", "5", "--json", "--", "true"])
        XCTAssertEqual(try results(chatty.stdout).hosts["t002"]?["status"] as? String, "ok", chatty.stdout)

        // A ProxyCommand that never speaks is given up at the connect timeout and killed.
        let marker = "sleep 4\(Int.random(in: 10000...99999))"
        try "Host silent\n    ProxyCommand \(marker)\n".appending(base).write(toFile: config, atomically: true, encoding: .utf8)
        let silent = try exec(config, ["-H", "silent", "--connect-timeout", "1", "--json", "--", "true"])
        let host = try XCTUnwrap(try results(silent.stdout).hosts["silent"])
        XCTAssertEqual(host["status"] as? String, "unreachable", "\(host)")
        XCTAssertTrue((host["error"] as? String ?? "").contains("within the connect timeout"), "\(host)")
        XCTAssertEqual(try ProcessRunner.run("/usr/bin/pgrep", ["-f", marker]).stdout, "", "the ProxyCommand was killed")
    }

    func testABastionThatNeverSpeaksSSHFailsItsTargetsAtTheConnectTimeout() throws {
        let silent = try SilentListener()
        let directory = try TemporaryDirectory()
        let config = directory.path + "/config"
        try """
            Host mute-bastion
                HostName 127.0.0.1
                Port \(silent.port)
            Host behind*
                ProxyJump mute-bastion

            """.write(toFile: config, atomically: true, encoding: .utf8)
        let started = Date()
        let result = try exec(config, ["-H", "behind1,behind2", "--connect-timeout", "2", "--json", "--", "true"], timeout: 30)
        let elapsed = Date().timeIntervalSince(started)
        XCTAssertLessThan(elapsed, 10)
        XCTAssertGreaterThan(elapsed, 1.5)
        let (byHost, _) = try results(result.stdout)
        for name in ["behind1", "behind2"] {
            XCTAssertEqual(byHost[name]?["status"] as? String, "unreachable", "\(byHost[name] ?? [:])")
            XCTAssertTrue((byHost[name]?["error"] as? String ?? "").contains("jump host mute-bastion (127.0.0.1:\(silent.port)): no SSH session within the connect timeout"),
                          "\(byHost[name] ?? [:])")
        }
    }
}

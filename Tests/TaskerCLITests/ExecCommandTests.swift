import Foundation
import TestFleet
import XCTest

/// `tasker exec` as a user runs it, against the real test fleet.
final class ExecCommandTests: XCTestCase {
    private var fleet: TestFleet!

    override func setUpWithError() throws {
        fleet = try TestFleet.shared()
    }

    private var tasker: String { TestFleet.taskerExecutable }

    private func exec(_ arguments: [String], timeout: Double = 120) throws -> ProcessRunner.Result {
        try ProcessRunner.run(tasker, ["exec", "-F", fleet.sshConfig] + arguments, timeout: timeout)
    }

    private func jsonLines(_ text: String) throws -> [[String: Any]] {
        try NDJSON.objects(text)
    }

    func testSuccessPrintsPrefixedLinesAndExitsZero() throws {
        let result = try exec(["-H", "node001,node002", "--", "echo", "hello;", "echo", "world"])
        XCTAssertEqual(result.status, 0, result.stderr)
        let lines = Set(result.stdout.split(separator: "\n").map(String.init))
        XCTAssertEqual(lines, ["node001: hello", "node001: world", "node002: hello", "node002: world"])
    }

    func testACommandReadingStandardInputGetsEndOfFileAtOnce() throws {
        let started = Date()
        let result = try exec(["-H", "node005", "--timeout", "20", "--", "sha256sum"])
        XCTAssertEqual(result.status, 0, result.stderr)
        XCTAssertEqual(result.stdout, "node005: e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855  -\n")
        XCTAssertLessThan(Date().timeIntervalSince(started), 10, "no wait for input that never comes")
    }

    func testEnvironmentValuesReachTheCommandExactlyAsGiven() throws {
        let directory = try TemporaryDirectory()
        let config = directory.path + "/ssh_config"
        try (try String(contentsOfFile: fleet.sshConfig, encoding: .utf8)).replacingOccurrences(of: "Host *\n", with: "Host *\n    SetEnv FROM_CONFIG=config-value GREETING=overridden\n")
            .write(toFile: config, atomically: true, encoding: .utf8)
        let tricky = "it's \"quoted\" $HOME `id` ; x"
        let result = try ProcessRunner.run(tasker, ["exec", "-F", config, "-H", "node006", "--env", "GREETING=hello world", "--env", "TRICKY=\(tricky)",
                                                    "--", "printf '%s|%s|%s' \"$GREETING\" \"$TRICKY\" \"$FROM_CONFIG\""])
        XCTAssertEqual(result.status, 0, result.stderr)
        XCTAssertEqual(result.stdout, "node006: hello world|\(tricky)|config-value\n")
        let bad = try ProcessRunner.run(tasker, ["exec", "-F", config, "-H", "node006", "--env", "1BAD=x", "--", "true"])
        XCTAssertEqual(bad.status, 2)
    }

    func testStandardInputIsSentToEveryHost() throws {
        let directory = try TemporaryDirectory()
        let payload = directory.path + "/payload.bin"
        XCTAssertEqual(try ProcessRunner.shell("head -c 10485760 /dev/urandom > '\(payload)'").status, 0)
        let expected = String(try ProcessRunner.run("/usr/bin/sha256sum", [payload]).stdout.prefix(64))
        let hosts = (21...40).map(TestFleet.name).joined(separator: ",")
        let result = try exec(["-H", hosts, "--stdin", payload, "--", "sha256sum"])
        XCTAssertEqual(result.status, 0, result.stderr)
        let lines = result.stdout.split(separator: "\n")
        XCTAssertEqual(lines.count, 20)
        for line in lines { XCTAssertTrue(line.hasSuffix(": \(expected)  -"), String(line)) }
        // A file redirected to Tasker's own standard input is sent the same way; a command
        // that stops reading early (`head -c 4`) is not an error.
        let text = directory.path + "/text.txt"
        try String(repeating: "abcdefgh", count: 100_000).write(toFile: text, atomically: true, encoding: .utf8)
        let redirected = try ProcessRunner.shell("'\(tasker)' exec -F '\(fleet.sshConfig)' -H node021 -- head -c 4 < '\(text)'")
        XCTAssertEqual(redirected.status, 0, redirected.stderr)
        XCTAssertEqual(redirected.stdout, "node021: abcd\n")
    }

    func testPtyGivesTheCommandATerminalAndMergesItsStreams() throws {
        let check = "if [ -t 0 ]; then echo terminal; else echo none; fi; echo to-stderr >&2"
        let plain = try exec(["-H", "node007", "--json", "--", check])
        let plainLine = try XCTUnwrap(try jsonLines(plain.stdout).first)
        XCTAssertEqual(plainLine["stdout"] as? String, "none\n")
        XCTAssertEqual(plainLine["stderr"] as? String, "to-stderr\n")
        XCTAssertEqual(plainLine["pty"] as? Bool, false)
        let pty = try exec(["-H", "node007", "--pty", "--json", "--", check])
        XCTAssertEqual(pty.status, 0, pty.stderr)
        let ptyLine = try XCTUnwrap(try jsonLines(pty.stdout).first)
        XCTAssertEqual(ptyLine["stdout"] as? String, "terminal\nto-stderr\n", "merged, with \\r\\n made \\n")
        XCTAssertEqual(ptyLine["stderr"] as? String, "")
        XCTAssertEqual(ptyLine["pty"] as? Bool, true)
        // A timeout still kills the command's process group through the terminal.
        let marker = "23.\(Int.random(in: 100...999))"
        let timedOut = try exec(["-H", "node007", "--pty", "--timeout", "1", "--", "sleep \(marker)"])
        XCTAssertEqual(timedOut.status, 4)
        XCTAssertEqual(try ProcessTable.count("sleep \(marker)"), 0)
    }

    func testNonZeroExitAndSeparateStderr() throws {
        let result = try exec(["-H", "node003", "--json", "--", "echo out; echo err >&2; exit 3"])
        XCTAssertEqual(result.status, 1)
        let objects = try jsonLines(result.stdout)
        XCTAssertEqual(objects.count, 2)
        let host = objects[0]
        XCTAssertEqual(host["type"] as? String, "host")
        XCTAssertEqual(host["host"] as? String, "node003")
        XCTAssertEqual(host["status"] as? String, "failed")
        XCTAssertEqual(host["exit_code"] as? Int, 3)
        XCTAssertEqual(host["stdout"] as? String, "out\n")
        XCTAssertEqual(host["stderr"] as? String, "err\n")
        XCTAssertEqual(host["stdout_bytes"] as? Int, 4)
        XCTAssertEqual(host["stderr_bytes"] as? Int, 4)
        XCTAssertEqual(host["stdout_truncated"] as? Bool, false)
        XCTAssertNotNil(host["connect_ms"] as? Int)
        XCTAssertNotNil(host["run_ms"] as? Int)
        XCTAssertTrue(host["signal"] is NSNull)
        let summary = objects[1]
        XCTAssertEqual(summary["type"] as? String, "summary")
        XCTAssertEqual(summary["failed"] as? Int, 1)
        XCTAssertEqual(summary["exit_code"] as? Int, 1)
    }

    func testSeveralCommandsRunInOrderOverOneConnection() throws {
        let before = fleet.connectionCount(toHost: 4)
        let args = ["-H", "node004", "--json"] + (1...20).flatMap { ["-c", "echo \($0)"] }
        let result = try exec(args)
        XCTAssertEqual(result.status, 0, result.stderr)
        let objects = try jsonLines(result.stdout)
        XCTAssertEqual(objects[0]["stdout"] as? String, (1...20).map { "\($0)\n" }.joined())
        XCTAssertEqual(objects[0]["commands_run"] as? Int, 20)
        XCTAssertEqual(objects[1]["connections_opened"] as? Int, 1)
        XCTAssertEqual(fleet.connectionsLogged(toHost: 4, since: before), 1)

        let keepGoing = try exec(["-H", "node004", "--json", "--keep-going", "-c", "false", "-c", "echo after"])
        XCTAssertEqual(keepGoing.status, 1)
        XCTAssertEqual(try jsonLines(keepGoing.stdout)[0]["stdout"] as? String, "after\n")
    }

    func testFoldGroupsIdenticalOutput() throws {
        let result = try exec(["--hosts-file", fleet.hostsFile, "-b", "--", "echo same"])
        XCTAssertEqual(result.status, 0, result.stderr)
        XCTAssertTrue(result.stdout.contains("node[001-064] (64)\n"), result.stdout)
        XCTAssertEqual(result.stdout.components(separatedBy: "same\n").count, 2, "the output is printed once")
    }

    func testGigabyteOfOutputKeepsMemoryFlatAndCountsExactly() throws {
        let result = try exec(["-H", "node005", "--json", "--", "head -c 1073741824 /dev/zero"], timeout: 300)
        XCTAssertEqual(result.status, 0, result.stderr)
        let objects = try jsonLines(result.stdout)
        XCTAssertEqual(objects[0]["stdout_bytes"] as? Int, 1 << 30)
        XCTAssertEqual(objects[0]["stdout_truncated"] as? Bool, true)
        let peak = try XCTUnwrap(objects[1]["peak_rss_kb"] as? Int)
        XCTAssertLessThan(peak, TestFleet.memoryLimit(kilobytes: 100 * 1024), "peak RSS \(peak) KiB for 1 GiB of output")
    }

    func testTimeoutKillsRemoteCommandAndExitsFour() throws {
        let marker = "40.\(Int.random(in: 100...999))"
        let result = try exec(["-H", "node006,node007", "--timeout", "1", "--", "sleep \(marker)"])
        XCTAssertEqual(result.status, 4, result.stderr)
        XCTAssertTrue(result.stderr.contains("node006: timeout"), result.stderr)
        XCTAssertEqual(try ProcessTable.count("sleep \(marker)"), 0,
                          "the remote command must not outlive its timeout")
    }

    func testUnreachableAndRefusedHostsExitThree() throws {
        let result = try exec(["-H", "node008,node009:2201", "--json", "--", "true"])
        XCTAssertEqual(result.status, 3)
        let objects = try jsonLines(result.stdout)
        let statuses = Dictionary(uniqueKeysWithValues: objects.dropLast().map { ($0["host"] as! String, $0["status"] as! String) })
        XCTAssertEqual(statuses, ["node008": "ok", "node009:2201": "unreachable"])
        XCTAssertTrue((objects.first { $0["host"] as? String == "node009:2201" }?["error"] as? String)?.contains("refused") ?? false)

        let directory = try TemporaryDirectory()
        let emptyKnownHosts = directory.path + "/known_hosts"
        let rejected = try exec(["-H", "node010", "--known-hosts", emptyKnownHosts, "--json", "--", "true"])
        XCTAssertEqual(rejected.status, 3)
        XCTAssertEqual(try jsonLines(rejected.stdout)[0]["status"] as? String, "hostkey_rejected")
        let accepted = try exec(["-H", "node010", "--known-hosts", emptyKnownHosts, "--host-key-policy", "accept-new", "--", "true"])
        XCTAssertEqual(accepted.status, 0, accepted.stderr)
    }

    func testInterruptKillsRemoteCommandsAndExits130() throws {
        let marker = "41.\(Int.random(in: 100...999))"
        let process = Process()
        process.executableURL = URL(fileURLWithPath: tasker)
        process.arguments = ["exec", "-F", fleet.sshConfig, "-H", "node011,node012", "--", "sleep \(marker)"]
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        XCTAssertGreaterThanOrEqual(try ProcessTable.waitFor("sleep \(marker)", atLeast: 2), 2)
        kill(process.processIdentifier, SIGINT)
        process.waitUntilExit()
        XCTAssertEqual(process.terminationStatus, 130)
        XCTAssertEqual(try ProcessTable.count("sleep \(marker)"), 0)
    }

    func testBadInputExitsTwoWithAOneLineReason() throws {
        let cases: [([String], String)] = [
            (["-H", "node001:http", "--", "true"], "invalid port 'http'"),
            (["-H", "node001", "--forks", "0", "--", "true"], "--forks must be at least 1"),
            (["-H", "node001", "--timeout=0", "--", "true"], "--timeout must be positive"),
            (["-H", "node001", "--timeout", "-1", "--", "true"], "--timeout"),
            (["-H", "node001"], "no command"),
            (["--", "true"], "no targets"),
            (["-H", "node001", "--bogus", "--", "true"], "--bogus"),
            (["-H", "node001", "-p", "99999", "--", "true"], "invalid port 99999"),
            (["--hosts-file", "/nonexistent/hosts", "--", "true"], "/nonexistent/hosts: cannot read hosts file"),
            (["-H", "node001", "--host-key-policy", "sometimes", "--", "true"], "sometimes"),
        ]
        for (arguments, reason) in cases {
            let result = try exec(arguments)
            XCTAssertEqual(result.status, 2, "\(arguments): \(result.stderr)")
            XCTAssertTrue(result.stderr.contains(reason), "\(arguments): \(result.stderr)")
            XCTAssertEqual(result.stderr.split(separator: "\n").count, 1, "\(arguments): \(result.stderr)")
            XCTAssertEqual(result.stdout, "")
        }
        let badConfig = try TemporaryFile()
        try "Host *\n  Port many\n".write(toFile: badConfig.path, atomically: true, encoding: .utf8)
        let result = try ProcessRunner.run(tasker, ["exec", "-F", badConfig.path, "-H", "x", "--", "true"])
        XCTAssertEqual(result.status, 2)
        XCTAssertTrue(result.stderr.contains("\(badConfig.path):2: bad Port: many"), result.stderr)
    }
}

/// `tasker inventory` and `tasker exec -i` against the test fleet's generated inventory.
final class InventoryCommandTests: XCTestCase {
    private var fleet: TestFleet!

    override func setUpWithError() throws {
        fleet = try TestFleet.shared()
    }

    private var tasker: String { TestFleet.taskerExecutable }

    func testExecTargetsAnInventoryPatternWithLimit() throws {
        let result = try ProcessRunner.run(tasker, ["exec", "-F", fleet.sshConfig, "-i", fleet.inventory, "fleet[0:5]:!node002",
                                                    "--limit", "node001,node003,node004,node020", "--json", "--", "echo $SSH_CONNECTION"])
        XCTAssertEqual(result.status, 0, result.stderr)
        let hosts = result.stdout.split(separator: "\n").compactMap {
            (try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any])?["host"] as? String
        }
        XCTAssertEqual(Set(hosts), ["node001", "node003", "node004"])
        XCTAssertTrue(result.stdout.contains("\(TestFleet.address(3)) \(TestFleet.port)"), "ansible_host and ansible_port are used: \(result.stdout)")
    }

    func testUserPortAndKeyMayComeOnlyFromGroupVars() throws {
        let directory = try TemporaryDirectory()
        try FileManager.default.createDirectory(atPath: directory.path + "/group_vars", withIntermediateDirectories: true)
        try "[app]\nnode061 ansible_host=\(TestFleet.address(61))\nnode062 ansible_host=\(TestFleet.address(62))\n"
            .write(toFile: directory.path + "/hosts.ini", atomically: true, encoding: .utf8)
        try "ansible_port: \(TestFleet.port)\nansible_user: \(NSUserName())\nansible_ssh_private_key_file: \(fleet.clientKey)\n"
            .write(toFile: directory.path + "/group_vars/all.yml", atomically: true, encoding: .utf8)
        // No ssh_config: without the group_vars, port 22 and no key would be used.
        let result = try ProcessRunner.run(tasker, ["exec", "-F", "/dev/null", "--known-hosts", fleet.knownHosts,
                                                    "-i", directory.path + "/hosts.ini", "app", "--", "echo $SSH_CONNECTION"])
        XCTAssertEqual(result.status, 0, result.stderr)
        XCTAssertTrue(result.stdout.contains("\(TestFleet.address(62)) \(TestFleet.port)"), result.stdout)
    }

    func testRetryFileListsTheHostsThatDidNotSucceedForLimitAt() throws {
        let directory = try TemporaryDirectory()
        let retry = directory.path + "/failed.retry"
        let first = try ProcessRunner.run(tasker, ["exec", "-F", fleet.sshConfig, "-i", fleet.inventory, "fleet[0:3]", "--retry-file", retry,
                                                   "--", "case \"$SSH_CONNECTION\" in *' \(TestFleet.address(2)) \(TestFleet.port)'|*' \(TestFleet.address(4)) \(TestFleet.port)') exit 1;; esac"])
        XCTAssertEqual(first.status, 1, first.stderr)
        XCTAssertEqual(Set(try String(contentsOfFile: retry, encoding: .utf8).split(separator: "\n")), ["node002", "node004"])
        let rerun = try ProcessRunner.run(tasker, ["exec", "-F", fleet.sshConfig, "-i", fleet.inventory, "all", "--limit", "@" + retry,
                                                   "--retry-file", retry, "--json", "--", "true"])
        XCTAssertEqual(rerun.status, 0, rerun.stderr)
        XCTAssertEqual(rerun.stdout.split(separator: "\n").count, 3, "two hosts and the summary")
        XCTAssertEqual(try String(contentsOfFile: retry, encoding: .utf8), "", "everything succeeded")
    }

    func testLocalHostsRunOnTheControllerAndOtherConnectionsFailThatHost() throws {
        let directory = try TemporaryDirectory()
        let marker = directory.path + "/ran-locally"
        try "[mixed]\ncontroller ansible_connection=local\ncontainer ansible_connection=docker\nnode063 ansible_host=\(TestFleet.address(63)) ansible_port=\(TestFleet.port)\n"
            .write(toFile: directory.path + "/hosts.ini", atomically: true, encoding: .utf8)
        let result = try ProcessRunner.run(tasker, ["exec", "-F", fleet.sshConfig, "-i", directory.path + "/hosts.ini", "mixed", "--json",
                                                    "--", "touch \(marker)-$(hostname) && echo done"])
        XCTAssertEqual(result.status, 1, result.stderr)
        var byHost: [String: [String: Any]] = [:]
        for line in result.stdout.split(separator: "\n") {
            if let object = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any], let host = object["host"] as? String {
                byHost[host] = object
            }
        }
        XCTAssertEqual(byHost["controller"]?["status"] as? String, "ok")
        XCTAssertEqual(byHost["controller"]?["stdout"] as? String, "done\n")
        XCTAssertEqual(byHost["node063"]?["status"] as? String, "ok")
        XCTAssertEqual(byHost["container"]?["status"] as? String, "error")
        XCTAssertEqual(byHost["container"]?["error"] as? String,
                       "connect: ansible_connection=docker is not supported; Tasker connects over SSH or runs locally")
    }

    func testPatternMatchingNothingIsAnErrorUnlessAllowed() throws {
        let empty = try ProcessRunner.run(tasker, ["exec", "-F", fleet.sshConfig, "-i", fleet.inventory, "nothing", "--", "true"])
        XCTAssertEqual(empty.status, 2)
        XCTAssertTrue(empty.stderr.contains("leave no hosts to target"), empty.stderr)
        let allowed = try ProcessRunner.run(tasker, ["exec", "-F", fleet.sshConfig, "-i", fleet.inventory, "nothing", "--allow-empty", "--", "true"])
        XCTAssertEqual(allowed.status, 0, allowed.stderr)
    }

    func testBrokenInventoryRunsNothing() throws {
        let file = try TemporaryFile()
        try "[web]\nnode001\n[web:bogus]\n".write(toFile: file.path, atomically: true, encoding: .utf8)
        let result = try ProcessRunner.run(tasker, ["exec", "-F", fleet.sshConfig, "-i", file.path, "all", "--", "true"])
        XCTAssertEqual(result.status, 2)
        XCTAssertTrue(result.stderr.contains("\(file.path):3: section [web:bogus] has unknown type: bogus"), result.stderr)
        XCTAssertEqual(result.stdout, "")
    }

    func testInventoryListGraphHostAndPattern() throws {
        let list = try ProcessRunner.run(tasker, ["inventory", "-i", fleet.inventory, "--list"])
        XCTAssertEqual(list.status, 0, list.stderr)
        let object = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(list.stdout.utf8)) as? [String: Any])
        XCTAssertEqual(((object["fleet"] as? [String: Any])?["hosts"] as? [String])?.count, TestFleet.hostCount)
        let graph = try ProcessRunner.run(tasker, ["inventory", "-i", fleet.inventory, "--graph"])
        XCTAssertTrue(graph.stdout.hasPrefix("@all:\n  |--@ungrouped:\n  |--@fleet:\n  |  |--node001\n"), graph.stdout)
        let host = try ProcessRunner.run(tasker, ["inventory", "-i", fleet.inventory, "--host", "node002"])
        XCTAssertTrue(host.stdout.contains("\"ansible_host\": \"\(TestFleet.address(2))\""), host.stdout)
        let pattern = try ProcessRunner.run(tasker, ["inventory", "-i", fleet.inventory, "~node00[12]"])
        XCTAssertEqual(pattern.stdout, "node001\nnode002\n")
    }
}

import Foundation
import TestFleet
import XCTest

/// `--become` against the real fleet: sudo and su as the hosts have them, with
/// and without passwords, and the guarantee that a timeout or Ctrl-C ends
/// what was started through become.
final class BecomeTests: XCTestCase {
    private var fleet: TestFleet!
    private var directory: TemporaryDirectory!
    private let password = "sudo-Pa55 'w0rd' $x"

    override func setUpWithError() throws {
        fleet = try TestFleet.shared()
        directory = try TemporaryDirectory()
        try BecomeUsers.ensure(password: password)
    }

    private var tasker: String { TestFleet.taskerExecutable }

    private func exec(_ arguments: [String], timeout: Double = 120) throws -> ProcessRunner.Result {
        try ProcessRunner.run(tasker, ["exec", "-F", fleet.sshConfig] + arguments, timeout: timeout)
    }

    private func passwordFile(_ text: String) throws -> String {
        let path = directory.path + "/become-password-\(UUID().uuidString.prefix(8))"
        try (text + "\n").write(toFile: path, atomically: true, encoding: .utf8)
        chmod(path, 0o600)
        return path
    }

    private func jsonLines(_ text: String) throws -> [[String: Any]] {
        try text.split(separator: "\n").map {
            try XCTUnwrap(JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any], String($0))
        }
    }

    private func hosts(_ range: ClosedRange<Int>) -> String { range.map(TestFleet.name).joined(separator: ",") }

    func testSudoWithoutPasswordRunsAsRootAndKeepsTheCommandsOwnOutput() throws {
        let result = try exec(["-H", hosts(1...5), "-l", BecomeUsers.withoutPassword, "--become", "--env", "GREETING=hello there",
                               "--", "id -un; echo \"$GREETING\"; echo to-stderr >&2; exit 3"])
        XCTAssertEqual(result.status, 1, result.stderr)
        let lines = result.stdout.split(separator: "\n").map(String.init)
        for index in 1...5 {
            let host = TestFleet.name(index)
            XCTAssertEqual(lines.filter { $0.hasPrefix(host + ": ") }, ["\(host): root", "\(host): hello there"], "the marker line never shows")
            XCTAssertTrue(result.stderr.contains("\(host): to-stderr"), result.stderr)
            XCTAssertTrue(result.stderr.contains("\(host): exit code 3"), result.stderr)
        }
    }

    func testSudoPasswordFromAFileIsNeverSeenAndInputFollowsIt() throws {
        let input = directory.path + "/input"
        try "first line\nsecond line\n".write(toFile: input, atomically: true, encoding: .utf8)
        let outputDirectory = directory.path + "/out"
        // `ps` on the host while the command runs shows every process's arguments, sudo's included.
        let result = try exec(["-H", hosts(6...9), "-l", BecomeUsers.withPassword, "--become", "--become-password-file", try passwordFile(password),
                               "--stdin", input, "--json", "--output-dir", outputDirectory,
                               "--", "id -un; cat; ps -eo args | grep -c '[s]udo -H -S'"])
        XCTAssertEqual(result.status, 0, result.stderr)
        let objects = try jsonLines(result.stdout).filter { $0["host"] != nil }
        XCTAssertEqual(objects.count, 4, result.stdout)
        for object in objects {
            XCTAssertEqual(object["status"] as? String, "ok")
            let stdout = try XCTUnwrap(object["stdout"] as? String)
            XCTAssertTrue(stdout.hasPrefix("root\nfirst line\nsecond line\n"), stdout)
            XCTAssertGreaterThan(Int(stdout.split(separator: "\n").last ?? "") ?? 0, 0, "ps saw sudo running: \(stdout)")
            XCTAssertEqual(object["stderr"] as? String, "", "sudo's prompt is not output")
        }
        var everything = result.stdout + result.stderr
        for file in try FileManager.default.subpathsOfDirectory(atPath: outputDirectory) {
            everything += (try? String(contentsOfFile: outputDirectory + "/" + file, encoding: .utf8)) ?? ""
        }
        XCTAssertFalse(everything.contains(password), "the password appears nowhere")
        XCTAssertFalse(everything.contains("tasker-become"), "nor the prompt Tasker gave sudo")
    }

    func testAWrongPasswordFailsEveryHostPromptlyAsBecomeFailed() throws {
        let result = try exec(["-H", hosts(10...19), "-l", BecomeUsers.withPassword, "--become",
                               "--become-password-file", try passwordFile("not-the-password"), "--timeout", "60", "--json", "--", "id"])
        XCTAssertEqual(result.status, 3, result.stderr)
        XCTAssertLessThan(result.seconds, 30, "sudo's answer is read at once; nothing waits for the timeout")
        let objects = try jsonLines(result.stdout).filter { $0["host"] != nil }
        XCTAssertEqual(objects.count, 10)
        for object in objects {
            XCTAssertEqual(object["status"] as? String, "become_failed", "\(object)")
            XCTAssertTrue((object["error"] as? String)?.contains("incorrect password") ?? false, "\(object)")
        }
        XCTAssertFalse(result.stdout.contains("not-the-password"))
    }

    func testSudoThatWantsAPasswordWhenNoneWasGivenFailsAtOnce() throws {
        let result = try exec(["-H", hosts(20...21), "-l", BecomeUsers.withPassword, "--become", "--timeout", "60", "--", "id"])
        XCTAssertEqual(result.status, 3)
        XCTAssertLessThan(result.seconds, 30)
        XCTAssertTrue(result.stderr.contains("become_failed: sudo to root: a password is required"), result.stderr)
    }

    func testATimeoutKillsWhatRunsThroughBecome() throws {
        let command = "sleep 43\(Int.random(in: 100...999))"
        let result = try exec(["-H", hosts(22...23), "-l", BecomeUsers.withPassword, "--become", "--become-password-file", try passwordFile(password),
                               "--timeout", "2", "--", command])
        XCTAssertEqual(result.status, 4, result.stderr)
        XCTAssertTrue(try waitUntil(seconds: 5) { try ProcessTable.count(exactly: command, user: "root") == 0 },
                      "no root \(command) left on the hosts")
    }

    func testInterruptKillsWhatRunsThroughBecome() throws {
        let command = "sleep 44\(Int.random(in: 100...999))"
        let process = Process()
        process.executableURL = URL(fileURLWithPath: tasker)
        process.arguments = ["exec", "-F", fleet.sshConfig, "-H", hosts(24...25), "-l", BecomeUsers.withoutPassword, "--become", "--", command]
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        XCTAssertTrue(try waitUntil(seconds: 10) { try ProcessTable.count(exactly: command, user: "root") == 2 })
        kill(process.processIdentifier, SIGINT)
        process.waitUntilExit()
        XCTAssertEqual(process.terminationStatus, 130)
        XCTAssertTrue(try waitUntil(seconds: 5) { try ProcessTable.count(exactly: command, user: "root") == 0 },
                      "no root \(command) left on the hosts")
    }

    func testBecomeAnotherUserWithSudoAndWithSu() throws {
        let sudo = try exec(["-H", hosts(26...26), "-l", BecomeUsers.withoutPassword, "--become", "--become-user", BecomeUsers.withPassword,
                             "--", "id -un"])
        XCTAssertEqual(sudo.status, 0, sudo.stderr)
        XCTAssertEqual(sudo.stdout, "\(TestFleet.name(26)): \(BecomeUsers.withPassword)\n")

        let su = try exec(["-H", hosts(27...28), "-l", BecomeUsers.withoutPassword, "--become", "--become-method", "su",
                           "--become-user", BecomeUsers.withPassword, "--become-password-file", try passwordFile(password), "--", "id -un"])
        XCTAssertEqual(su.status, 0, su.stderr)
        XCTAssertEqual(Set(su.stdout.split(separator: "\n")), ["\(TestFleet.name(27)): \(BecomeUsers.withPassword)",
                                                              "\(TestFleet.name(28)): \(BecomeUsers.withPassword)"])

        let wrong = try exec(["-H", hosts(27...27), "-l", BecomeUsers.withoutPassword, "--become", "--become-method", "su",
                              "--become-user", BecomeUsers.withPassword, "--become-password-file", try passwordFile("wrong"), "--", "id -un"])
        XCTAssertEqual(wrong.status, 3)
        XCTAssertTrue(wrong.stderr.contains("become_failed: su refused the become password"), wrong.stderr)
    }

    func testRequireTTYSaysToUsePtyAndPtyGivesATerminal() throws {
        let arguments = ["-H", hosts(29...29), "-l", BecomeUsers.withoutPassword, "--become", "--become-user", BecomeUsers.terminalOnlyTarget]
        let refused = try exec(arguments + ["--", "id -un"])
        XCTAssertEqual(refused.status, 3)
        XCTAssertTrue(refused.stderr.contains("run with --pty"), refused.stderr)

        let terminal = try exec(arguments + ["--pty", "--", "id -un; [ -t 0 ] && echo has-a-terminal"])
        XCTAssertEqual(terminal.status, 0, terminal.stderr)
        XCTAssertEqual(terminal.stdout, "\(TestFleet.name(29)): \(BecomeUsers.terminalOnlyTarget)\n\(TestFleet.name(29)): has-a-terminal\n")

        let password = try exec(["-H", hosts(30...30), "-l", BecomeUsers.withPassword, "--become", "--become-password-file",
                                 try passwordFile(self.password), "--pty", "--", "id -un"])
        XCTAssertEqual(password.status, 0, password.stderr)
        XCTAssertEqual(password.stdout, "\(TestFleet.name(30)): root\n", "neither the prompt nor the password shows on the terminal")
    }

    func testInventoryBecomeVariablesApplyPerHostAndTheCommandLineWins() throws {
        let inventory = directory.path + "/hosts.ini"
        try """
            [admins]
            \(TestFleet.name(31)) ansible_become=true ansible_become_password="\(password)"
            \(TestFleet.name(32)) ansible_become=yes ansible_become_user=\(BecomeUsers.withoutPassword) ansible_become_password="\(password)"
            \(TestFleet.name(33))

            [admins:vars]
            ansible_user=\(BecomeUsers.withPassword)

            """.write(toFile: inventory, atomically: true, encoding: .utf8)
        let result = try exec(["-i", inventory, "admins", "--", "id -un"])
        XCTAssertEqual(result.status, 0, result.stderr)
        XCTAssertEqual(Set(result.stdout.split(separator: "\n").map(String.init)),
                       ["\(TestFleet.name(31)): root", "\(TestFleet.name(32)): \(BecomeUsers.withoutPassword)",
                        "\(TestFleet.name(33)): \(BecomeUsers.withPassword)"])

        let overridden = try exec(["-i", inventory, "admins", "--become", "--become-user", "root", "--become-password-file",
                                   try passwordFile(password), "--", "id -un"])
        XCTAssertEqual(overridden.status, 0, overridden.stderr)
        XCTAssertEqual(overridden.stdout.split(separator: "\n").filter { $0.hasSuffix(": root") }.count, 3, overridden.stdout)
    }

    func testScriptRunsThroughBecome() throws {
        let script = directory.path + "/whoami.sh"
        try "#!/bin/sh\nid -un\necho \"args: $*\"\n".write(toFile: script, atomically: true, encoding: .utf8)
        let result = try ProcessRunner.run(tasker, ["script", "-F", fleet.sshConfig, "-H", hosts(34...35), "-l", BecomeUsers.withoutPassword,
                                                    "--become", "--become-user", BecomeUsers.withPassword, script, "--", "a b"])
        XCTAssertEqual(result.status, 0, result.stderr)
        XCTAssertEqual(Set(result.stdout.split(separator: "\n").map(String.init)),
                       ["\(TestFleet.name(34)): \(BecomeUsers.withPassword)", "\(TestFleet.name(34)): args: a b",
                        "\(TestFleet.name(35)): \(BecomeUsers.withPassword)", "\(TestFleet.name(35)): args: a b"])
    }

    private func stagingDirectories() throws -> Set<String> {
        Set(try FileManager.default.contentsOfDirectory(atPath: "/tmp").filter { $0.hasPrefix("tasker-stage.") })
    }

    func testPushAndPullThroughBecomeReachWhatOnlyRootMayTouch() throws {
        let rootOnly = directory.path + "/root-only"
        XCTAssertEqual(mkdir(rootOnly, 0o700), 0)
        let source = directory.path + "/release"
        try FileManager.default.createDirectory(atPath: source + "/conf", withIntermediateDirectories: true)
        try "v2\n".write(toFile: source + "/VERSION", atomically: true, encoding: .utf8)
        try "key=value\n".write(toFile: source + "/conf/app.conf", atomically: true, encoding: .utf8)
        chmod(source + "/conf/app.conf", 0o640)
        let before = try stagingDirectories()
        let login = ["-F", fleet.sshConfig, "-H", hosts(36...37), "-l", BecomeUsers.withPassword]
        let become = ["--become", "--become-password-file", try passwordFile(password)]

        let refused = try ProcessRunner.run(tasker, ["push"] + login + ["-r", source, rootOnly + "/{host}/"])
        XCTAssertEqual(refused.status, 1, "the login user alone may not write there: \(refused.stderr)")

        let pushed = try ProcessRunner.run(tasker, ["push"] + login + become + ["-r", source, rootOnly + "/{host}/"])
        XCTAssertEqual(pushed.status, 0, pushed.stderr)
        for index in 36...37 {
            let placed = rootOnly + "/\(TestFleet.name(index))/release"
            XCTAssertEqual(try String(contentsOfFile: placed + "/conf/app.conf", encoding: .utf8), "key=value\n")
            let attributes = try FileManager.default.attributesOfItem(atPath: placed + "/conf/app.conf")
            XCTAssertEqual(attributes[.ownerAccountName] as? String, "root", "written by the become user")
            XCTAssertEqual((attributes[.posixPermissions] as? NSNumber)?.intValue, 0o640, "with the source's mode")
        }
        let again = try ProcessRunner.run(tasker, ["push"] + login + become + ["-r", "--checksum", "--json", source, rootOnly + "/{host}/"])
        XCTAssertEqual(again.status, 0, again.stderr)
        XCTAssertEqual(try jsonLines(again.stdout).compactMap { $0["status"] as? String }.filter { $0 == "unchanged" }.count, 2,
                       "sha256sum through become sees the files: \(again.stdout)")

        let local = directory.path + "/pulled"
        let pulled = try ProcessRunner.run(tasker, ["pull"] + login + become + ["-r", rootOnly + "/{host}/release", local])
        XCTAssertEqual(pulled.status, 0, pulled.stderr)
        XCTAssertEqual(try String(contentsOfFile: local + "/\(TestFleet.name(36))/release/conf/app.conf", encoding: .utf8), "key=value\n")
        XCTAssertEqual(try String(contentsOfFile: local + "/\(TestFleet.name(37))/release/VERSION", encoding: .utf8), "v2\n")

        let missing = try ProcessRunner.run(tasker, ["pull"] + login + become + [rootOnly + "/nothing-here", local])
        XCTAssertEqual(missing.status, 1)
        XCTAssertTrue(missing.stderr.contains("cannot read the files through become") && missing.stderr.contains("No such file"), missing.stderr)
        XCTAssertEqual(try stagingDirectories(), before, "staging directories are removed")
    }

    func testPushThroughBecomeToAnotherUserLeavesTheFileTheirs() throws {
        let source = directory.path + "/note.txt"
        try "for the other user\n".write(toFile: source, atomically: true, encoding: .utf8)
        let destination = directory.path + "/handed-over-{host}.txt"
        chmod(directory.path, 0o777)
        let result = try ProcessRunner.run(tasker, ["push", "-F", fleet.sshConfig, "-H", hosts(38...38), "-l", BecomeUsers.withoutPassword,
                                                    "--become", "--become-user", BecomeUsers.withPassword, source, destination])
        XCTAssertEqual(result.status, 0, result.stderr)
        let placed = directory.path + "/handed-over-\(TestFleet.name(38)).txt"
        XCTAssertEqual(try String(contentsOfFile: placed, encoding: .utf8), "for the other user\n")
        XCTAssertEqual(try FileManager.default.attributesOfItem(atPath: placed)[.ownerAccountName] as? String, BecomeUsers.withPassword)
    }

    func testAWorkflowFileHeaderTurnsBecomeOnForItsRemoteTasks() throws {
        try BecomeUsers.ensure(password: password)
        let inventory = directory.path + "/admins.ini"
        try """
            [admins]
            \(TestFleet.name(39)) ansible_host=127.0.\(TestFleet.baseOctet).39 ansible_port=\(TestFleet.port) ansible_user=\(BecomeUsers.withoutPassword)
            \(TestFleet.name(40)) ansible_host=127.0.\(TestFleet.baseOctet).40 ansible_port=\(TestFleet.port) ansible_user=\(BecomeUsers.withPassword)

            """.write(toFile: inventory, atomically: true, encoding: .utf8)
        let flow = directory.path + "/flow.txt"
        try """
            --become
            --default-exec=ssh

            task=0
            hosts=admins
            command=id
            arguments=-un
            success=min_success=1

            """.write(toFile: flow, atomically: true, encoding: .utf8)
        let json = directory.path + "/report.json"
        let logs = directory.path + "/logs"
        let result = try ProcessRunner.run(tasker, ["-r", flow, "--output-json=\(json)", "-F", fleet.sshConfig, "-i", inventory,
                                                    "-l", logs, "--become-password-file", try passwordFile("not-" + password)], timeout: 120)
        XCTAssertEqual(result.status, 0, result.stdout + result.stderr)
        let report = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: json))) as? [String: Any])
        let perHost = try XCTUnwrap(((report["task_results"] as? [String: Any])?["0"] as? [String: Any])?["hosts"] as? [String: [String: Any]])
        XCTAssertEqual(perHost[TestFleet.name(39)]?["stdout"] as? String, "root\n")
        XCTAssertEqual(perHost[TestFleet.name(40)]?["status"] as? String, "become_failed", "\(perHost)")
        XCTAssertTrue((perHost[TestFleet.name(40)]?["stderr"] as? String ?? "").contains("incorrect password"), "\(perHost)")
        var written = result.stdout + result.stderr + (try String(contentsOfFile: json, encoding: .utf8))
        for file in try FileManager.default.subpathsOfDirectory(atPath: logs) {
            written += (try? String(contentsOfFile: logs + "/" + file, encoding: .utf8)) ?? ""
        }
        XCTAssertTrue(written.contains("become_failed"), "the logs were read")
        XCTAssertFalse(written.contains("not-" + password), "the password is in no log or report")
    }

    func testTaskFieldsTurnBecomeOnAndOffAndChooseTheUserPerTask() throws {
        let inventory = directory.path + "/mixed.ini"
        func line(_ index: Int, _ extra: String = "") -> String {
            "\(TestFleet.name(index)) ansible_host=127.0.\(TestFleet.baseOctet).\(index) ansible_port=\(TestFleet.port) "
                + "ansible_user=\(BecomeUsers.withoutPassword)\(extra)"
        }
        try "[plain]\n\(line(41))\n[rooted]\n\(line(42, " ansible_become=true"))\n".write(toFile: inventory, atomically: true, encoding: .utf8)
        let flow = directory.path + "/flow.txt"
        try """
            --default-exec=ssh
            BECOME=yes

            task=0
            hostname=\(TestFleet.name(41))
            command=id
            arguments=-un

            task=1
            hostname=\(TestFleet.name(41))
            command=id
            arguments=-un
            become=@BECOME@

            task=2
            hostname=\(TestFleet.name(41))
            command=id
            arguments=-un
            become=true
            become_user=\(BecomeUsers.withPassword)

            task=3
            hosts=rooted
            command=id
            arguments=-un
            become=false

            task=4
            hosts=rooted
            command=id
            arguments=-un

            """.write(toFile: flow, atomically: true, encoding: .utf8)
        let json = directory.path + "/report.json"
        let result = try ProcessRunner.run(tasker, ["-r", flow, "--output-json=\(json)", "-F", fleet.sshConfig, "-i", inventory,
                                                    "-l", directory.path + "/logs"], timeout: 120)
        XCTAssertEqual(result.status, 0, result.stdout + result.stderr)
        let report = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: json))) as? [String: Any])
        let results = try XCTUnwrap(report["task_results"] as? [String: [String: Any]])
        XCTAssertEqual(results["0"]?["stdout"] as? String, BecomeUsers.withoutPassword + "\n")
        XCTAssertEqual(results["1"]?["stdout"] as? String, "root\n", "become=@BECOME@ resolves to yes")
        XCTAssertEqual(results["2"]?["stdout"] as? String, BecomeUsers.withPassword + "\n")
        func onlyHost(_ id: String) -> String? {
            ((results[id]?["hosts"] as? [String: [String: Any]])?[TestFleet.name(42)])?["stdout"] as? String
        }
        XCTAssertEqual(onlyHost("3"), BecomeUsers.withoutPassword + "\n", "become=false wins over ansible_become")
        XCTAssertEqual(onlyHost("4"), "root\n")

        let local = directory.path + "/local.txt"
        try "task=0\nhostname=localhost\ncommand=id\nexec=local\nbecome=true\n".write(toFile: local, atomically: true, encoding: .utf8)
        let refused = try ProcessRunner.run(tasker, ["-r", local, "-l", directory.path + "/logs"], timeout: 60)
        XCTAssertEqual(refused.status, 20)
        XCTAssertTrue((refused.stdout + refused.stderr).contains("become=true needs an SSH exec type"), refused.stdout + refused.stderr)
    }

    func testAskBecomePassAsksOnceAndAnOpenPasswordFileIsRefused() throws {
        let askpass = directory.path + "/askpass"
        let asked = directory.path + "/asked"
        try "#!/bin/sh\necho \"$1\" >> '\(asked)'\nprintf '%s\\n' '\(password.replacingOccurrences(of: "'", with: "'\\''"))'\n"
            .write(toFile: askpass, atomically: true, encoding: .utf8)
        chmod(askpass, 0o755)
        let result = try ProcessRunner.run(tasker, ["exec", "-F", fleet.sshConfig, "-H", hosts(41...44), "-l", BecomeUsers.withPassword,
                                                    "--become", "-K", "--", "id -un"],
                                           environment: ["SSH_ASKPASS": askpass, "SSH_ASKPASS_REQUIRE": "force", "PATH": "/usr/bin:/bin"])
        XCTAssertEqual(result.status, 0, result.stderr)
        XCTAssertEqual(result.stdout.split(separator: "\n").filter { $0.hasSuffix(": root") }.count, 4)
        XCTAssertEqual(try String(contentsOfFile: asked, encoding: .utf8), "BECOME password: \n", "asked once for the whole run")

        let open = directory.path + "/open-password"
        try (password + "\n").write(toFile: open, atomically: true, encoding: .utf8)
        chmod(open, 0o644)
        let refused = try exec(["-H", hosts(41...41), "-l", BecomeUsers.withPassword, "--become", "--become-password-file", open, "--", "true"])
        XCTAssertEqual(refused.status, 2)
        XCTAssertTrue(refused.stderr.contains("is readable by others (mode 644); chmod 600 it"), refused.stderr)
    }

    func testDoasWithoutAndWithAPassword() throws {
        let nopass = try exec(["-H", hosts(45...45), "-l", BecomeUsers.withoutPassword, "--become", "--become-method", "doas", "--", "id -un"])
        XCTAssertEqual(nopass.status, 0, nopass.stderr)
        XCTAssertEqual(nopass.stdout, "\(TestFleet.name(45)): root\n")
        let arguments = ["-H", hosts(46...46), "-l", BecomeUsers.withPassword, "--become", "--become-method", "doas", "--become-password-file"]
        let noTerminal = try exec(arguments + [try passwordFile(password), "--", "id -un"])
        XCTAssertEqual(noTerminal.status, 3)
        XCTAssertTrue(noTerminal.stderr.contains("doas reads a password only from a terminal: run with --pty"), noTerminal.stderr)
        let terminal = try exec(arguments + [try passwordFile(password), "--pty", "--", "id -un"])
        XCTAssertEqual(terminal.status, 0, terminal.stderr)
        XCTAssertEqual(terminal.stdout, "\(TestFleet.name(46)): root\n")
        let wrong = try exec(arguments + [try passwordFile("wrong"), "--pty", "--", "id -un"])
        XCTAssertEqual(wrong.status, 3)
        XCTAssertTrue(wrong.stderr.contains("doas refused the become password"), wrong.stderr)
    }
}

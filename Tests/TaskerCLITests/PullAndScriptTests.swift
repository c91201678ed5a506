import Foundation
import Glibc
import TestFleet
import XCTest

/// `tasker pull` and `tasker script` against the real fleet (whose hosts share
/// this machine's file system: each host reads its own `{host}` path).
final class PullAndScriptTests: XCTestCase {
    private var fleet: TestFleet!
    private var directory: TemporaryDirectory!

    override func setUpWithError() throws {
        fleet = try TestFleet.shared()
        directory = try TemporaryDirectory()
    }

    private func tasker(_ command: String, _ arguments: [String]) throws -> ProcessRunner.Result {
        try ProcessRunner.run(TestFleet.taskerExecutable, [command, "-F", fleet.sshConfig] + arguments, timeout: 120)
    }

    private func hosts(_ range: ClosedRange<Int>) -> String {
        range.map(TestFleet.name).joined(separator: ",")
    }

    private func jsonLines(_ text: String) throws -> [[String: Any]] {
        try text.split(separator: "\n").map {
            try XCTUnwrap(JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any], String($0))
        }
    }

    /// The script directories left on the (shared) hosts' /tmp.
    private func scriptDirectories() throws -> Set<String> {
        Set(try ProcessRunner.shell("ls -d /tmp/tasker-script.* 2>/dev/null").stdout.split(separator: "\n").map(String.init))
    }

    func testPullFromTwentyHostsIntoPerHostDirectories() throws {
        for index in 1...20 {
            let remote = directory.path + "/remote/\(TestFleet.name(index))"
            try FileManager.default.createDirectory(atPath: remote + "/logs", withIntermediateDirectories: true)
            try "report of \(TestFleet.name(index))\n".write(toFile: remote + "/report.txt", atomically: true, encoding: .utf8)
            try "log \(index)\n".write(toFile: remote + "/logs/app.log", atomically: true, encoding: .utf8)
        }
        let local = directory.path + "/collected"
        let result = try tasker("pull", ["-H", hosts(1...20), "-r", directory.path + "/remote/{host}/report.txt",
                                         directory.path + "/remote/{host}/logs", local])
        XCTAssertEqual(result.status, 0, result.stderr)
        for index in 1...20 {
            let name = TestFleet.name(index)
            XCTAssertEqual(try String(contentsOfFile: "\(local)/\(name)/report.txt", encoding: .utf8), "report of \(name)\n")
            XCTAssertEqual(try String(contentsOfFile: "\(local)/\(name)/logs/app.log", encoding: .utf8), "log \(index)\n")
        }
        XCTAssertEqual(try ProcessRunner.shell("find '\(local)' -name '.*.tasker-*'").stdout, "")
    }

    func testAMissingRemoteFileFailsOnlyThatHost() throws {
        for index in [21, 23] {
            try FileManager.default.createDirectory(atPath: directory.path + "/r/\(TestFleet.name(index))", withIntermediateDirectories: true)
            try "x".write(toFile: directory.path + "/r/\(TestFleet.name(index))/f", atomically: true, encoding: .utf8)
        }
        let result = try tasker("pull", ["-H", hosts(21...23), "--json", directory.path + "/r/{host}/f", directory.path + "/into/{host}"])
        XCTAssertEqual(result.status, 1, result.stderr)
        let lines = try jsonLines(result.stdout)
        let missing = lines.first { $0["host"] as? String == TestFleet.name(22) }
        XCTAssertEqual(missing?["error"] as? String, "no such file or directory: \(directory.path)/r/\(TestFleet.name(22))/f")
        XCTAssertEqual(lines.filter { $0["status"] as? String == "ok" }.count, 2)
        XCTAssertTrue(FileManager.default.fileExists(atPath: directory.path + "/into/\(TestFleet.name(21))/f"))
    }

    func testScriptRunsWithItsArgumentsAndIsRemovedWhateverHappens() throws {
        let before = try scriptDirectories()
        let script = directory.path + "/check.sh"
        // A duration no other test sleeps: other tests' remote `sleep 30`s may still be ending.
        let hang = "sleep 30.\(Int.random(in: 100...999))"
        try "#!/bin/sh\necho \"args: $# [$1] [$2]\"\ncase \"$1\" in fail) exit 3 ;; hang) \(hang) ;; esac\n"
            .write(toFile: script, atomically: true, encoding: .utf8)
        let ok = try tasker("script", ["-H", hosts(24...25), script, "--", "first", "two words"])
        XCTAssertEqual(ok.status, 0, ok.stderr)
        XCTAssertEqual(Set(ok.stdout.split(separator: "\n")), ["\(TestFleet.name(24)): args: 2 [first] [two words]",
                                                                "\(TestFleet.name(25)): args: 2 [first] [two words]"])
        let failed = try tasker("script", ["-H", hosts(24...25), "--json", script, "--", "fail"])
        XCTAssertEqual(failed.status, 1)
        XCTAssertEqual(try jsonLines(failed.stdout).first?["exit_code"] as? Int, 3)
        let timedOut = try tasker("script", ["-H", hosts(24...25), "--timeout", "1", "--json", script, "--", "hang"])
        XCTAssertEqual(timedOut.status, 4)
        XCTAssertEqual(try jsonLines(timedOut.stdout).first?["status"] as? String, "timeout")
        XCTAssertEqual(try ProcessTable.count(hang), 0, "the script's process group was killed")
        XCTAssertEqual(try scriptDirectories(), before, "every temporary directory was removed")
    }

    func testInterpreterOverridesTheScriptsOwnLine() throws {
        let script = directory.path + "/print.py"
        try "import sys\nprint('python', sys.argv[1])\n".write(toFile: script, atomically: true, encoding: .utf8)
        let result = try tasker("script", ["-H", TestFleet.name(26), "--interpreter", "python3", script, "--", "ok"])
        XCTAssertEqual(result.status, 0, result.stderr)
        XCTAssertEqual(result.stdout, "\(TestFleet.name(26)): python ok\n")
    }

    func testInterruptedScriptIsKilledAndRemoved() throws {
        let before = try scriptDirectories()
        let marker = "29.\(Int.random(in: 100...999))"
        let script = directory.path + "/slow.sh"
        try "#!/bin/sh\nsleep \(marker)\n".write(toFile: script, atomically: true, encoding: .utf8)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: TestFleet.taskerExecutable)
        process.arguments = ["script", "-F", fleet.sshConfig, "-H", hosts(27...28), script]
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        XCTAssertGreaterThanOrEqual(try ProcessTable.waitFor("sleep \(marker)", atLeast: 2), 2)
        kill(process.processIdentifier, SIGINT)
        process.waitUntilExit()
        XCTAssertEqual(process.terminationStatus, 130)
        XCTAssertEqual(try ProcessTable.count("sleep \(marker)"), 0)
        XCTAssertEqual(try scriptDirectories(), before)
    }
}

import Foundation
import Glibc
import TestFleet
import XCTest

/// `tasker push` against the real fleet. The fleet's hosts share this
/// machine's file system, so each host writes below its own `{host}` directory.
final class PushCommandTests: XCTestCase {
    private var fleet: TestFleet!
    private var directory: TemporaryDirectory!

    override func setUpWithError() throws {
        fleet = try TestFleet.shared()
        directory = try TemporaryDirectory()
    }

    private func push(_ arguments: [String]) throws -> ProcessRunner.Result {
        try ProcessRunner.run(TestFleet.taskerExecutable, ["push", "-F", fleet.sshConfig] + arguments, timeout: 120)
    }

    private func hosts(_ range: ClosedRange<Int>) -> String {
        range.map(TestFleet.name).joined(separator: ",")
    }

    private func randomFile(_ name: String, megabytes: Int) throws -> String {
        let path = directory.path + "/" + name
        let result = try ProcessRunner.shell("head -c \(megabytes << 20) /dev/urandom > '\(path)'")
        XCTAssertEqual(result.status, 0, result.stderr)
        return path
    }

    private func sha256(_ path: String) throws -> String {
        String(try ProcessRunner.run("/usr/bin/sha256sum", [path]).stdout.prefix(64))
    }

    private func jsonLines(_ text: String) throws -> [[String: Any]] {
        try text.split(separator: "\n").map {
            try XCTUnwrap(JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any], String($0))
        }
    }

    /// Files below `path` whose names mark them as Tasker's temporary files.
    private func temporaryFiles(below path: String) throws -> [String] {
        try ProcessRunner.shell("find '\(path)' -name '.*.tasker-*' 2>/dev/null").stdout.split(separator: "\n").map(String.init)
    }

    func testTenMegabytesToTwentyHostsArriveIntact() throws {
        let source = try randomFile("payload.bin", megabytes: 10)
        let result = try push(["-H", hosts(21...40), "--json", source, directory.path + "/dest/{host}/payload.bin"])
        XCTAssertEqual(result.status, 0, result.stderr)
        let lines = try jsonLines(result.stdout)
        XCTAssertEqual(lines.filter { $0["status"] as? String == "ok" }.count, 20)
        XCTAssertEqual(lines.first?["bytes_transferred"] as? Int, 10 << 20)
        let expected = try sha256(source)
        for index in 21...40 {
            XCTAssertEqual(try sha256(directory.path + "/dest/\(TestFleet.name(index))/payload.bin"), expected)
        }
        XCTAssertEqual(try temporaryFiles(below: directory.path + "/dest"), [])
    }

    func testDirectoryTreesKeepTheirModes() throws {
        let tree = directory.path + "/app"
        try FileManager.default.createDirectory(atPath: tree + "/bin", withIntermediateDirectories: true)
        try "#!/bin/sh\necho hi\n".write(toFile: tree + "/bin/run", atomically: true, encoding: .utf8)
        try "key=value\n".write(toFile: tree + "/app.conf", atomically: true, encoding: .utf8)
        chmod(tree + "/bin/run", 0o750)
        chmod(tree + "/app.conf", 0o600)
        chmod(tree + "/bin", 0o710)
        let result = try push(["-H", hosts(41...42), "-r", tree, directory.path + "/deploy/{host}/"])
        XCTAssertEqual(result.status, 0, result.stderr)
        for index in 41...42 {
            let root = directory.path + "/deploy/\(TestFleet.name(index))/app"
            let modes = try ProcessRunner.run("/usr/bin/stat", ["-c", "%a %n", root + "/bin", root + "/bin/run", root + "/app.conf"]).stdout
            XCTAssertEqual(modes, "710 \(root)/bin\n750 \(root)/bin/run\n600 \(root)/app.conf\n")
            XCTAssertEqual(try String(contentsOfFile: root + "/bin/run", encoding: .utf8), "#!/bin/sh\necho hi\n")
        }
        // Into a destination that does not exist yet, the tree becomes it (cp -r).
        let renamed = try push(["-H", hosts(41...41), "-r", "--mode", "0640", tree, directory.path + "/renamed"])
        XCTAssertEqual(renamed.status, 0, renamed.stderr)
        let mode = try ProcessRunner.run("/usr/bin/stat", ["-c", "%a", directory.path + "/renamed/bin/run"]).stdout
        XCTAssertEqual(mode, "640\n")
    }

    func testChecksumSkipsHostsThatHaveTheFileAndResendsAChangedCopy() throws {
        let source = try randomFile("artifact.tgz", megabytes: 2)
        let destination = directory.path + "/cs/{host}/artifact.tgz"
        XCTAssertEqual(try push(["-H", hosts(43...45), "--checksum", source, destination]).status, 0)
        try "tampered".write(toFile: directory.path + "/cs/\(TestFleet.name(44))/artifact.tgz", atomically: true, encoding: .utf8)
        let again = try push(["-H", hosts(43...45), "--checksum", "--json", source, destination])
        XCTAssertEqual(again.status, 0, again.stderr)
        var statuses: [String: String] = [:]
        for line in try jsonLines(again.stdout) where line["type"] as? String == "host" {
            statuses[line["host"] as! String] = line["status"] as? String
        }
        XCTAssertEqual(statuses, [TestFleet.name(43): "unchanged", TestFleet.name(44): "ok", TestFleet.name(45): "unchanged"])
        XCTAssertEqual(try sha256(directory.path + "/cs/\(TestFleet.name(44))/artifact.tgz"), try sha256(source))
    }

    func testEachHostGetsItsOwnSource() throws {
        try FileManager.default.createDirectory(atPath: directory.path + "/configs", withIntermediateDirectories: true)
        for index in 46...48 {
            try "name=\(TestFleet.name(index))\n".write(toFile: directory.path + "/configs/\(TestFleet.name(index)).conf",
                                                       atomically: true, encoding: .utf8)
        }
        let result = try push(["-H", hosts(46...48), directory.path + "/configs/{host}.conf", directory.path + "/etc/{host}/app.conf"])
        XCTAssertEqual(result.status, 0, result.stderr)
        for index in 46...48 {
            XCTAssertEqual(try String(contentsOfFile: directory.path + "/etc/\(TestFleet.name(index))/app.conf", encoding: .utf8),
                           "name=\(TestFleet.name(index))\n")
        }
    }

    func testAnUnwritableDestinationFailsOnlyThatHost() throws {
        // As a user other than root, for whom permissions apply.
        try PasswordUser.ensure(password: "unused-\(UUID().uuidString.prefix(8))")
        chmod(directory.path, 0o755)
        for index in 49...51 {
            let hostDirectory = directory.path + "/\(TestFleet.name(index))"
            try FileManager.default.createDirectory(atPath: hostDirectory, withIntermediateDirectories: true)
            if index != 50 { _ = try ProcessRunner.run("/bin/chown", [PasswordUser.name, hostDirectory]) }
        }
        let source = try randomFile("small.txt", megabytes: 1)
        chmod(source, 0o644)
        let result = try push(["-H", hosts(49...51), "-l", PasswordUser.name, "--json", source, directory.path + "/{host}/small.txt"])
        XCTAssertEqual(result.status, 1, result.stderr)
        let failed = try jsonLines(result.stdout).first { $0["host"] as? String == TestFleet.name(50) }
        XCTAssertEqual(failed?["status"] as? String, "failed")
        XCTAssertEqual(failed?["error"] as? String, "permission denied: \(directory.path)/\(TestFleet.name(50))/small.txt")
        XCTAssertTrue(FileManager.default.fileExists(atPath: directory.path + "/\(TestFleet.name(49))/small.txt"))
        XCTAssertTrue(FileManager.default.fileExists(atPath: directory.path + "/\(TestFleet.name(51))/small.txt"))
    }

    func testAFullFileSystemIsReportedAndLeavesNoTemporaryFile() throws {
        let mountPoint = directory.path + "/small-fs"
        try FileManager.default.createDirectory(atPath: mountPoint, withIntermediateDirectories: true)
        let mount = try ProcessRunner.run("/bin/mount", ["-t", "tmpfs", "-o", "size=2m", "tmpfs", mountPoint])
        try XCTSkipIf(mount.status != 0, "cannot mount a tmpfs here: \(mount.stderr)")
        defer { _ = try? ProcessRunner.run("/bin/umount", ["-l", mountPoint]) }
        let source = try randomFile("large.bin", megabytes: 8)
        let result = try push(["-H", TestFleet.name(52), "--json", source, mountPoint + "/large.bin"])
        XCTAssertEqual(result.status, 1, result.stderr)
        let host = try XCTUnwrap(try jsonLines(result.stdout).first)
        XCTAssertEqual(host["error"] as? String, "no space left on device: \(mountPoint)/large.bin")
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: mountPoint), [])
    }

    func testInterruptAndTimeoutLeaveNoPartialOrTemporaryFiles() throws {
        let source = try randomFile("huge.bin", megabytes: 256)
        let destination = directory.path + "/cut/{host}/huge.bin"
        let process = Process()
        process.executableURL = URL(fileURLWithPath: TestFleet.taskerExecutable)
        process.arguments = ["push", "-F", fleet.sshConfig, "-H", hosts(53...56), source, destination]
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        XCTAssertTrue(try waitUntil(seconds: 20) { !(try self.temporaryFiles(below: self.directory.path + "/cut")).isEmpty },
                      "the transfer started")
        kill(process.processIdentifier, SIGINT)
        process.waitUntilExit()
        XCTAssertEqual(process.terminationStatus, 130)
        XCTAssertEqual(try temporaryFiles(below: directory.path + "/cut"), [])
        XCTAssertEqual(try ProcessRunner.shell("find '\(directory.path)/cut' -type f").stdout, "")

        let timedOut = try push(["-H", hosts(53...56), "--timeout", "0.3", "--json", source, destination])
        XCTAssertEqual(timedOut.status, 4, timedOut.stderr)
        for line in try jsonLines(timedOut.stdout) where line["type"] as? String == "host" {
            XCTAssertEqual(line["status"] as? String, "timeout")
            XCTAssertEqual(line["error"] as? String, "transfer timed out after 0.3s; temporary files removed")
        }
        XCTAssertEqual(try ProcessRunner.shell("find '\(directory.path)/cut' -type f").stdout, "")
    }

    func testAGigabytePushKeepsTheControllerSmall() throws {
        let source = directory.path + "/gigabyte.bin"
        XCTAssertEqual(try ProcessRunner.run("/usr/bin/truncate", ["-s", "1G", source]).status, 0)
        let result = try push(["-H", TestFleet.name(57), "--json", source, directory.path + "/giga/{host}.bin"])
        XCTAssertEqual(result.status, 0, result.stderr)
        let summary = try XCTUnwrap(try jsonLines(result.stdout).last)
        XCTAssertLessThan(summary["peak_rss_kb"] as? Int ?? .max, TestFleet.memoryLimit(kilobytes: 64 << 10))
        XCTAssertEqual(try sha256(directory.path + "/giga/\(TestFleet.name(57)).bin"), try sha256(source))
    }
}

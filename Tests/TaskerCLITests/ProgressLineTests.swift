import Foundation
import TestFleet
import XCTest

/// The progress line: on a terminal's stderr (a pty made by script(1)), erased at the end; never on a
/// pipe or with --json unless asked.
final class ProgressLineTests: XCTestCase {
    private var fleet: TestFleet!
    private var directory: TemporaryDirectory!
    private let tasker = TestFleet.taskerExecutable
    private let erase = "\r\u{1B}[K"

    override func setUpWithError() throws {
        fleet = try TestFleet.shared()
        directory = try TemporaryDirectory()
    }

    /// Runs tasker with `arguments` on a pseudo-terminal; returns what the terminal showed.
    private func onTerminal(_ arguments: [String]) throws -> (status: Int32, screen: String) {
        let command = ([tasker] + arguments).map { "'" + $0.replacingOccurrences(of: "'", with: "'\\''") + "'" }.joined(separator: " ")
        let result = try ProcessRunner.run("/usr/bin/script", ["-qec", command, "/dev/null"], timeout: 120)
        return (result.status, result.stdout)
    }

    private func payload() throws -> String {
        let path = directory.path + "/payload.bin"
        XCTAssertEqual(try ProcessRunner.shell("head -c 8388608 /dev/urandom > '\(path)'").status, 0)
        return path
    }

    func testAPushOnATerminalShowsHostsAndBytesAndErasesTheLineAtTheEnd() throws {
        let source = try payload()
        let (status, screen) = try onTerminal(["push", "-F", fleet.sshConfig, "-H", "node047,node048,node049", source,
                                               "/tmp/tasker-progress-\(UUID().uuidString.prefix(6)).bin"])
        XCTAssertEqual(status, 0, screen)
        XCTAssertTrue(screen.contains("push: 3/3 hosts, 24.0 MiB of 24.0 MiB"), screen)
        XCTAssertTrue(screen.contains(erase + "push: 0/3 hosts") || screen.contains(erase + "push: 1/3 hosts"), "drawn as hosts go")
        // Erased before the summary, and not drawn again after it.
        let summary = try XCTUnwrap(screen.range(of: "tasker: 3 hosts: 3 ok"))
        XCTAssertTrue(screen[..<summary.lowerBound].hasSuffix(erase), screen)
        XCTAssertFalse(screen[summary.upperBound...].contains("push:"), screen)
    }

    func testNoProgressOnAPipeOrWithJSONUnlessAsked() throws {
        let source = try payload()
        let destination = "/tmp/tasker-progress-\(UUID().uuidString.prefix(6)).bin"
        let piped = try ProcessRunner.run(tasker, ["push", "-F", fleet.sshConfig, "-H", "node047,node048", source, destination])
        XCTAssertEqual(piped.status, 0, piped.stderr)
        XCTAssertFalse(piped.stderr.contains("\u{1B}"), piped.stderr)
        let json = try onTerminal(["push", "-F", fleet.sshConfig, "-H", "node047,node048", "--json", "--progress", source, destination])
        XCTAssertEqual(json.status, 0, json.screen)
        XCTAssertFalse(json.screen.contains("push:"), "never with --json")
        let refused = try onTerminal(["push", "-F", fleet.sshConfig, "-H", "node047,node048", "--no-progress", source, destination])
        XCTAssertFalse(refused.screen.contains("push:"), refused.screen)
    }

    func testExecCountsHostsAndFailuresAndKeepsOutputLinesWhole() throws {
        let hosts = (50...59).map(TestFleet.name) + ["nowhere.invalid"]
        let (status, screen) = try onTerminal(["exec", "-F", fleet.sshConfig, "-H", hosts.joined(separator: ","), "--", "echo out"])
        XCTAssertEqual(status, 3, screen)
        XCTAssertTrue(screen.contains("exec: 11/11 hosts, 1 failed"), screen)
        // What the terminal shows of each line: the text after its last carriage return (each erasure starts with one).
        // ("\r\n", the pty's line end, is one Character: make it "\n" first.)
        let visible = screen.replacingOccurrences(of: "\r\n", with: "\n").split(separator: "\n").map { line in
            String(line.split(separator: "\r", omittingEmptySubsequences: false).last(where: { !$0.isEmpty }) ?? "")
                .replacingOccurrences(of: "\u{1B}[K", with: "")
        }
        XCTAssertEqual(visible.filter { $0.hasSuffix(": out") }.count, 10, screen.debugDescription)
        XCTAssertFalse(visible.contains { $0.contains("exec:") }, "the progress line is erased under every output line and at the end")
        // Forced on a pipe.
        let piped = try ProcessRunner.run(tasker, ["exec", "-F", fleet.sshConfig, "-H", "node050,node051", "--progress", "--", "true"])
        XCTAssertEqual(piped.status, 0, piped.stderr)
        XCTAssertTrue(piped.stderr.contains("exec: 2/2 hosts"), piped.stderr)
    }
}

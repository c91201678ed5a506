import Foundation
import TestFleet
import XCTest

/// `--journal FILE`: every event of a run, one JSON object per line, as it happens.
final class RunJournalTests: XCTestCase {
    private var fleet: TestFleet!

    override func setUpWithError() throws {
        fleet = try TestFleet.shared()
    }

    private var tasker: String { TestFleet.taskerExecutable }

    func testAnExecRunsEventsComeInOrderWithOffsetsAndMatchItsJSONLines() throws {
        let directory = try TemporaryDirectory()
        let journal = directory.path + "/run.ndjson"
        let result = try ProcessRunner.run(tasker, ["exec", "-F", fleet.sshConfig, "-H", "node041,node042,node009:2201", "--json",
                                                    "--journal", journal, "-c", "echo one", "-c", "echo two >&2"])
        XCTAssertEqual(result.status, 3, result.stderr)
        let lines = try NDJSON.objects(inFile: journal)
        let types = lines.map { $0["type"] as? String ?? "?" }
        XCTAssertEqual(types.first, "run_started")
        XCTAssertEqual(types.last, "run_ended")
        let start = lines[0]
        XCTAssertEqual(start["operation"] as? String, "exec")
        XCTAssertEqual(start["targets"] as? Int, 3)
        XCTAssertEqual(start["subject"] as? String, "echo one\necho two >&2")
        XCTAssertFalse((start["version"] as? String ?? "").isEmpty)
        XCTAssertNotNil((start["started_at"] as? String).flatMap { ISO8601DateFormatter.withMilliseconds.date(from: $0) })
        let offsets = lines.map { $0["t_ms"] as? Int ?? -1 }
        XCTAssertEqual(offsets, offsets.sorted(), "offsets never go back")
        XCTAssertGreaterThanOrEqual(offsets.first ?? -1, 0)

        for host in ["node041", "node042"] {
            let own = lines.filter { $0["host"] as? String == host }
            XCTAssertEqual(own.map { $0["type"] as? String ?? "?" },
                           ["host_connecting", "host_connected", "command_started", "command_ended", "command_started", "command_ended", "host_ended"],
                           host)
            XCTAssertEqual(own.filter { $0["type"] as? String == "command_ended" }.map { $0["index"] as? Int }, [0, 1])
            XCTAssertEqual(own[3]["stdout_bytes"] as? Int, 4)
            XCTAssertEqual(own[5]["stderr_bytes"] as? Int, 4)
            let ended = own[6]
            XCTAssertEqual(ended["status"] as? String, "ok")
            XCTAssertEqual(ended["stdout"] as? String, "one\n")
            let started = try XCTUnwrap(ended["started_ms"] as? Int)
            let endedAt = try XCTUnwrap(ended["ended_ms"] as? Int)
            XCTAssertLessThanOrEqual(started, own[0]["t_ms"] as? Int ?? -1)
            XCTAssertLessThanOrEqual(own[1]["t_ms"] as? Int ?? .max, endedAt)
        }
        let refused = lines.filter { $0["host"] as? String == "node009:2201" }
        XCTAssertEqual(refused.map { $0["type"] as? String ?? "?" }, ["host_connecting", "host_failed_to_connect", "host_ended"])
        XCTAssertEqual(refused[1]["status"] as? String, "unreachable")

        // The --json stream on stdout is the same hosts, with the same offsets, and the same summary.
        let json = try NDJSON.objects(result.stdout)
        let hostLines = json.filter { $0["type"] as? String == "host" }
        let endedLines = lines.filter { $0["type"] as? String == "host_ended" }
        XCTAssertEqual(hostLines.map { $0["host"] as? String }, endedLines.map { $0["host"] as? String })
        XCTAssertEqual(hostLines.map { $0["started_ms"] as? Int }, endedLines.map { $0["started_ms"] as? Int })
        let summary = try XCTUnwrap(json.last)
        XCTAssertEqual(summary["type"] as? String, "summary")
        XCTAssertEqual(summary["exit_code"] as? Int, 3)
        XCTAssertEqual(lines.last?["exit_code"] as? Int, 3)
        XCTAssertEqual(lines.last?["ok"] as? Int, 2)
        XCTAssertEqual(lines.last?["unreachable"] as? Int, 1)
    }

    func testAPushJournalsItsTransferProgress() throws {
        let directory = try TemporaryDirectory()
        let payload = directory.path + "/payload.bin"
        XCTAssertEqual(try ProcessRunner.shell("head -c 33554432 /dev/urandom > '\(payload)'").status, 0)
        let journal = directory.path + "/push.ndjson"
        let result = try ProcessRunner.run(tasker, ["push", "-F", fleet.sshConfig, "-H", "node045,node046", "--journal", journal,
                                                    payload, "/tmp/tasker-progress-\(UUID().uuidString.prefix(6)).bin"])
        XCTAssertEqual(result.status, 0, result.stderr)
        let lines = try NDJSON.objects(inFile: journal)
        for host in ["node045", "node046"] {
            let progress = lines.filter { $0["type"] as? String == "transfer_progress" && $0["host"] as? String == host }.map { $0["bytes"] as! Int }
            XCTAssertFalse(progress.isEmpty, host)
            XCTAssertEqual(progress, progress.sorted(), "bytes so far only grow")
            let ended = try XCTUnwrap(lines.first { $0["type"] as? String == "host_ended" && $0["host"] as? String == host })
            XCTAssertLessThanOrEqual(progress.last ?? .max, ended["bytes_transferred"] as? Int ?? 0)
        }
        XCTAssertEqual(lines.first?["operation"] as? String, "push")
    }

    func testAJournalThatCannotBeWrittenIsAUsageError() throws {
        let result = try ProcessRunner.run(tasker, ["exec", "-F", fleet.sshConfig, "-H", "node041", "--journal", "/nonexistent/dir/j.ndjson",
                                                    "--", "true"])
        XCTAssertEqual(result.status, 2)
        XCTAssertTrue(result.stderr.contains("cannot write journal /nonexistent/dir/j.ndjson"), result.stderr)
    }

    func testTheJournalOfARunKilledWithSIGKILLParsesLineByLine() throws {
        let directory = try TemporaryDirectory()
        let journal = directory.path + "/killed.ndjson"
        // Short: a killed client leaves its remote commands to end on their own.
        let marker = "6.\(Int.random(in: 100...999))"
        let hosts = (43...50).map(TestFleet.name).joined(separator: ",")
        let process = Process()
        process.executableURL = URL(fileURLWithPath: tasker)
        process.arguments = ["exec", "-F", fleet.sshConfig, "-H", hosts, "--journal", journal, "--", "echo started; sleep \(marker)"]
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        XCTAssertTrue(try waitUntil(seconds: 20) {
            ((try? String(contentsOfFile: journal, encoding: .utf8)) ?? "").components(separatedBy: "\"command_started\"").count - 1 == 8
        })
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
        let lines = try NDJSON.objects(inFile: journal)
        XCTAssertEqual(lines.first?["type"] as? String, "run_started")
        XCTAssertFalse(lines.contains { $0["type"] as? String == "run_ended" }, "the run never ended")
        XCTAssertEqual(lines.filter { $0["type"] as? String == "command_started" }.count, 8)
    }
}

extension ISO8601DateFormatter {
    static var withMilliseconds: ISO8601DateFormatter {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return formatter
    }
}

import Foundation
import TestFleet
import XCTest

/// `--shard I/N` on the command line: disjoint slices that together are the whole selection,
/// the same slice for `tasker inventory` and for a run, `auto` from a scheduler's environment.
final class ShardCommandTests: XCTestCase {
    private var directory: TemporaryDirectory!
    private var fleet: TestFleet!

    override func setUpWithError() throws {
        directory = try TemporaryDirectory()
        fleet = try TestFleet.shared()
    }

    private func tasker(_ arguments: [String], environment: [String: String]? = nil) throws -> ProcessRunner.Result {
        try ProcessRunner.run(TestFleet.taskerExecutable, arguments, environment: environment, timeout: 120)
    }

    private func lines(_ text: String) -> [String] { text.split(separator: "\n").map(String.init) }

    func testTheSlicesAreDisjointAndTogetherTheWholeSelection() throws {
        let all = lines(try tasker(["inventory", "-i", fleet.inventory, "fleet"]).stdout)
        XCTAssertEqual(all.count, TestFleet.hostCount)
        var union: [String] = []
        for index in 0..<3 {
            let slice = try tasker(["inventory", "-i", fleet.inventory, "fleet", "--shard", "\(index)/3"])
            XCTAssertEqual(slice.status, 0, slice.stderr)
            union += lines(slice.stdout)
        }
        XCTAssertEqual(union.sorted(), all.sorted(), "every host in exactly one slice")
        XCTAssertEqual(Set(union).count, union.count)
    }

    func testARunWorksOnItsSliceOnly() throws {
        let slice = lines(try tasker(["inventory", "-i", fleet.inventory, "fleet[0:19]", "--shard", "1/4"]).stdout)
        let result = try tasker(["exec", "-F", fleet.sshConfig, "-i", fleet.inventory, "fleet[0:19]", "--shard", "1/4", "--json", "--", "true"])
        XCTAssertEqual(result.status, 0, result.stderr)
        let hosts = try NDJSON.objects(result.stdout).compactMap { $0["type"] as? String == "host" ? $0["host"] as? String : nil }
        XCTAssertEqual(hosts.sorted(), slice.sorted())
        let auto = try tasker(["inventory", "-i", fleet.inventory, "fleet[0:19]", "--shard", "auto"],
                              environment: ["SLURM_ARRAY_TASK_ID": "1", "SLURM_ARRAY_TASK_COUNT": "4", "PATH": "/usr/bin:/bin"])
        XCTAssertEqual(lines(auto.stdout), slice, "Slurm's array index and count give the same slice")
    }

    func testBadShardsAreUsageErrorsNamingTheOption() throws {
        for (value, said) in [("4/4", "shard 4 is not one of 0…3"), ("1/0", "at least 1"), ("two", "is not I/N")] {
            let result = try tasker(["inventory", "-i", fleet.inventory, "fleet", "--shard", value])
            XCTAssertEqual(result.status, 2, value)
            XCTAssertTrue(result.stderr.contains("--shard") && result.stderr.contains(said), result.stderr)
        }
        let kubernetes = try tasker(["inventory", "-i", fleet.inventory, "fleet", "--shard", "auto"],
                                    environment: ["JOB_COMPLETION_INDEX": "0", "PATH": "/usr/bin:/bin"])
        XCTAssertEqual(kubernetes.status, 2)
        XCTAssertTrue(kubernetes.stderr.contains("--shard-count N or TASKER_SHARD_COUNT"), kubernetes.stderr)
    }

    func testShardTokensNameEachSlicesFilesAndTheJournalSaysWhichSliceItIs() throws {
        for index in 0..<2 {
            let result = try tasker(["exec", "-F", fleet.sshConfig, "-i", fleet.inventory, "fleet[0:9]", "--shard", "\(index)/2",
                                     "--journal", directory.path + "/run-{shard}.ndjson", "--retry-file", directory.path + "/retry-{shard}",
                                     "--", "true"])
            XCTAssertEqual(result.status, 0, result.stderr)
            let events = try NDJSON.objects(inFile: directory.path + "/run-\(index).ndjson")
            XCTAssertEqual(events.first?["type"] as? String, "run_started")
            XCTAssertEqual(events.first?["shard"] as? String, "\(index)/2")
            XCTAssertTrue(FileManager.default.fileExists(atPath: directory.path + "/retry-\(index)"))
        }
    }
}

import XCTest
@testable import Fleet

/// `--shard I/N`: which host goes where, and how that moves as the fleet or the shard count changes.
final class ShardTests: XCTestCase {
    private let hosts = (1...10_000).map { "web\($0).eu.example.com" }

    func testEveryHostIsInExactlyOneShardAndTheShardsAreBalanced() throws {
        let shards = try (0..<4).map { try Shard(index: $0, count: 4) }
        var sizes = [0, 0, 0, 0]
        for host in hosts {
            let owners = shards.filter { $0.contains(host) }
            XCTAssertEqual(owners.count, 1, host)
            sizes[owners[0].index] += 1
        }
        for size in sizes { XCTAssertEqual(Double(size), 2_500, accuracy: 150, "\(sizes)") }
    }

    func testTheAssignmentIsTheDocumentedHash() {
        // Pinned from an independent implementation of the documented hash (FNV-1a 64, SplitMix64):
        // another build must give the same shards.
        let pinned = (1...8).map { Shard.owner(of: "node00\($0)", count: 3) }
        XCTAssertEqual(pinned, [1, 1, 2, 0, 0, 1, 2, 0])
        XCTAssertEqual(Shard.owner(of: "node001", count: 1), 0)
    }

    func testGoingFromNToNPlusOneShardsMovesAboutOneInNPlusOneAndOnlyToTheNewShard() {
        for count in [2, 4, 7] {
            var moved = 0
            for host in hosts {
                let before = Shard.owner(of: host, count: count)
                let after = Shard.owner(of: host, count: count + 1)
                if before != after {
                    moved += 1
                    XCTAssertEqual(after, count, "a host that moves goes to the new shard")
                }
            }
            XCTAssertEqual(Double(moved) / Double(hosts.count), 1 / Double(count + 1), accuracy: 0.02, "\(count) → \(count + 1)")
        }
    }

    func testBadValuesAreUsageErrorsNamingTheOption() {
        for text in ["3/3", "-1/2", "0/0", "x", "1/", "/2", "1/2/3"] {
            XCTAssertThrowsError(try Shard.parse(text, environment: [:]), text) { error in
                XCTAssertTrue("\(error)".contains("--shard"), "\(error)")
            }
        }
        XCTAssertEqual(try Shard.parse("2/5", environment: [:]), try Shard(index: 2, count: 5))
    }

    func testAutoReadsTheSchedulersEnvironment() throws {
        XCTAssertEqual(try Shard.parse("auto", environment: ["SLURM_ARRAY_TASK_ID": "3", "SLURM_ARRAY_TASK_COUNT": "4"]), try Shard(index: 3, count: 4))
        XCTAssertEqual(try Shard.parse("auto", environment: ["SLURM_ARRAY_TASK_ID": "11", "SLURM_ARRAY_TASK_MIN": "10", "SLURM_ARRAY_TASK_MAX": "13"]),
                       try Shard(index: 1, count: 4), "an array 10-13 is four shards")
        XCTAssertEqual(try Shard.parse("auto", environment: ["JOB_COMPLETION_INDEX": "2", "TASKER_SHARD_COUNT": "5"]), try Shard(index: 2, count: 5))
        XCTAssertEqual(try Shard.parse("auto", environment: ["NOMAD_ALLOC_INDEX": "0"], countOverride: 2), try Shard(index: 0, count: 2))
        XCTAssertThrowsError(try Shard.parse("auto", environment: ["JOB_COMPLETION_INDEX": "2"])) { error in
            XCTAssertTrue("\(error)".contains("--shard-count N or TASKER_SHARD_COUNT"), "\(error)")
        }
        XCTAssertThrowsError(try Shard.parse("auto", environment: [:])) { error in
            XCTAssertTrue("\(error)".contains("SLURM_ARRAY_TASK_ID, JOB_COMPLETION_INDEX or NOMAD_ALLOC_INDEX"), "\(error)")
        }
    }
}

import ArgumentParser
import Fleet
import Foundation

/// `--shard I/N` and `--shard-count N`: this controller's slice of a run split over several.
struct ShardOptions: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp("Work on slice I (from 0) of N of the targets, split by a hash of each host's name; 'auto' reads I and N from Slurm, Kubernetes or Nomad.", valueName: "I/N|auto"))
    var shard: String?

    @Option(name: .long, help: ArgumentHelp("With --shard auto: the number of shards, where the scheduler passes none (Kubernetes, Nomad; else TASKER_SHARD_COUNT).", valueName: "n"))
    var shardCount: Int?

    func validate() throws {
        if shardCount != nil, shard != "auto" { throw ValidationError("--shard-count goes with --shard auto") }
        if let shardCount, shardCount < 1 { throw ValidationError("--shard-count must be at least 1") }
        _ = try resolved()
    }

    /// The slice, or nil without `--shard`.
    func resolved() throws -> Shard? {
        guard let shard else { return nil }
        do {
            return try Shard.parse(shard, environment: ProcessInfo.processInfo.environment, countOverride: shardCount)
        } catch {
            throw ValidationError(error.description)
        }
    }
}

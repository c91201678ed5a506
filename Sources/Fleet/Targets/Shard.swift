/// One slice of a run split over several controllers (`--shard I/N`): a host
/// belongs to the shard whose weight for it is highest (rendezvous hashing), so
/// the assignment depends on the host's name only, never on its position:
/// adding or removing hosts moves no other host, and going from N to N+1
/// shards moves about 1/(N+1) of them (to the new shard).
///
/// The weight of host H for shard S is `mix(fnv1a64(H) ^ mix(S + 1))`, where
/// `fnv1a64` is 64-bit FNV-1a over H's UTF-8 bytes and `mix` one SplitMix64
/// step (add 0x9e3779b97f4a7c15, then its finalizer); ties go to the lower shard. Fixed and documented,
/// so shards computed by different Tasker builds agree.
public struct Shard: Sendable, Equatable, CustomStringConvertible {
    /// 0-based.
    public let index: Int
    public let count: Int

    public init(index: Int, count: Int) throws(FleetError) {
        guard count >= 1 else { throw .badInput("--shard: the number of shards must be at least 1, not \(count)") }
        guard (0..<count).contains(index) else {
            throw .badInput("--shard: shard \(index) is not one of 0…\(count - 1) (shards are numbered from 0)")
        }
        self.index = index
        self.count = count
    }

    public var description: String { "\(index)/\(count)" }

    /// `I/N`, or `auto`: I and N from the scheduler's environment (Slurm job arrays, Kubernetes
    /// Indexed Jobs, Nomad), with `countOverride` (`--shard-count`) or `TASKER_SHARD_COUNT` where
    /// the scheduler passes no count.
    public static func parse(_ text: String, environment: [String: String], countOverride: Int? = nil) throws(FleetError) -> Shard {
        if text == "auto" { return try fromScheduler(environment, countOverride: countOverride) }
        let parts = text.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count == 2, let index = Int(parts[0]), let count = Int(parts[1]) else {
            throw .badInput("--shard: '\(text)' is not I/N (e.g. 0/4) or auto")
        }
        return try Shard(index: index, count: count)
    }

    private static func fromScheduler(_ environment: [String: String], countOverride: Int?) throws(FleetError) -> Shard {
        func number(_ name: String) throws(FleetError) -> Int? {
            guard let text = environment[name] else { return nil }
            guard let value = Int(text.trimmingCharacters(in: .whitespaces)) else { throw .badInput("--shard auto: \(name)='\(text)' is not a number") }
            return value
        }
        let givenCount: Int?
        if let countOverride { givenCount = countOverride } else { givenCount = try number("TASKER_SHARD_COUNT") }
        if let task = try number("SLURM_ARRAY_TASK_ID") {
            if let count = try number("SLURM_ARRAY_TASK_COUNT") {
                let minimum = try number("SLURM_ARRAY_TASK_MIN") ?? 0
                return try Shard(index: task - minimum, count: givenCount ?? count)
            }
            if let minimum = try number("SLURM_ARRAY_TASK_MIN"), let maximum = try number("SLURM_ARRAY_TASK_MAX") {
                return try Shard(index: task - minimum, count: givenCount ?? maximum - minimum + 1)
            }
            guard let givenCount else {
                throw .badInput("--shard auto: SLURM_ARRAY_TASK_ID is set but neither SLURM_ARRAY_TASK_COUNT nor SLURM_ARRAY_TASK_MIN/MAX")
            }
            return try Shard(index: task, count: givenCount)
        }
        for variable in ["JOB_COMPLETION_INDEX", "NOMAD_ALLOC_INDEX"] {
            guard let index = try number(variable) else { continue }
            guard let givenCount else {
                throw .badInput("--shard auto: \(variable) gives the shard but not how many there are: set --shard-count N or TASKER_SHARD_COUNT")
            }
            return try Shard(index: index, count: givenCount)
        }
        throw .badInput("--shard auto: none of SLURM_ARRAY_TASK_ID, JOB_COMPLETION_INDEX or NOMAD_ALLOC_INDEX is set")
    }

    /// The shard `host` belongs to, out of `count`.
    public static func owner(of host: String, count: Int) -> Int {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in host.utf8 {
            hash ^= UInt64(byte)
            hash &*= 0x0000_0100_0000_01b3
        }
        var best = 0
        var bestWeight: UInt64 = 0
        for shard in 0..<count {
            let weight = mix(hash ^ mix(UInt64(shard) &+ 1))
            if shard == 0 || weight > bestWeight { (best, bestWeight) = (shard, weight) }
        }
        return best
    }

    public func contains(_ host: String) -> Bool { Self.owner(of: host, count: count) == index }

    /// `path` with its `{shard}` tokens replaced by this shard's index (`--journal run-{shard}.ndjson`).
    public func expand(_ path: String) -> String { path.replacingOccurrences(of: "{shard}", with: String(index)) }

    private static func mix(_ value: UInt64) -> UInt64 {
        var z = value &+ 0x9e37_79b9_7f4a_7c15
        z = (z ^ (z >> 30)) &* 0xbf58_476d_1ce4_e5b9
        z = (z ^ (z >> 27)) &* 0x94d0_49bb_1331_11eb
        return z ^ (z >> 31)
    }
}

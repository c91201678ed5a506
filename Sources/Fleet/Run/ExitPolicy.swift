/// The process exit status of a fleet run; the first matching row wins.
///
/// | status | meaning |
/// |---|---|
/// | 2 | usage or bad input; nothing was run |
/// | 4 | some host timed out |
/// | 3 | some host was unreachable, refused authentication, had its host key rejected or refused become |
/// | 1 | some command exited non-zero, was killed by a signal, or hit another error |
/// | 0 | every host succeeded |
public enum ExitPolicy {
    public static let usage: Int32 = 2
    public static let interrupted: Int32 = 130

    public static func exitStatus(for tally: RunTally) -> Int32 {
        let statuses = Set(tally.counts.filter { $0.value > 0 }.keys)
        if statuses.contains(.timeout) { return 4 }
        if !statuses.isDisjoint(with: [.unreachable, .authFailed, .hostkeyRejected, .becomeFailed]) { return 3 }
        if !statuses.isDisjoint(with: [.failed, .error]) { return 1 }
        return 0
    }
}

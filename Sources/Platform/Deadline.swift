import Glibc

/// A point on the monotonic clock. Every wait in Tasker has one; timeouts are
/// decided by comparing against it, never inferred from libssh2 return codes.
public struct Deadline: Comparable, Hashable, Sendable, CustomStringConvertible {
    public let uptimeNanoseconds: UInt64

    public init(uptimeNanoseconds: UInt64) {
        self.uptimeNanoseconds = uptimeNanoseconds
    }

    public static func now() -> Deadline {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return Deadline(uptimeNanoseconds: UInt64(ts.tv_sec) * 1_000_000_000 + UInt64(ts.tv_nsec))
    }

    public static let distantFuture = Deadline(uptimeNanoseconds: .max)

    /// A deadline `seconds` from now; `nil` or a non-positive value means no deadline.
    public static func after(seconds: Double?) -> Deadline {
        guard let seconds, seconds > 0, seconds.isFinite else { return .distantFuture }
        let delta = UInt64(seconds * 1_000_000_000)
        let now = Deadline.now().uptimeNanoseconds
        return Deadline(uptimeNanoseconds: now > UInt64.max - delta ? .max : now + delta)
    }

    public var hasPassed: Bool { self <= .now() }

    /// This deadline moved later by the time elapsed since `start` (time spent
    /// waiting for the user, which no timeout should count).
    public func extended(bySecondsSince start: Deadline) -> Deadline {
        guard self != .distantFuture else { return self }
        let elapsed = Deadline.now().uptimeNanoseconds &- start.uptimeNanoseconds
        return Deadline(uptimeNanoseconds: uptimeNanoseconds > UInt64.max - elapsed ? .max : uptimeNanoseconds + elapsed)
    }

    /// Seconds left until the deadline (negative once it has passed).
    public var secondsRemaining: Double {
        if self == .distantFuture { return .infinity }
        return (Double(uptimeNanoseconds) - Double(Deadline.now().uptimeNanoseconds)) / 1e9
    }

    public static func < (lhs: Deadline, rhs: Deadline) -> Bool {
        lhs.uptimeNanoseconds < rhs.uptimeNanoseconds
    }

    public var description: String {
        self == .distantFuture ? "never" : "\(Int(secondsRemaining * 1000)) ms from now"
    }

    /// Milliseconds elapsed since `start`.
    public static func milliseconds(since start: Deadline) -> Int {
        Int((Deadline.now().uptimeNanoseconds &- start.uptimeNanoseconds) / 1_000_000)
    }
}

import Foundation
import Glibc
import Platform

/// A run's time: where it started on the monotonic clock (every event's
/// offset is measured from there) and on the wall clock (said once, in
/// `run_started`, so a timeline can be drawn from the events alone).
public struct RunClock: Sendable {
    public let start: Deadline
    public let wallStart: Date

    public init(start: Deadline = .now(), wallStart: Date = Date()) {
        self.start = start
        self.wallStart = wallStart
    }

    /// The wall-clock start as ISO 8601 in UTC with milliseconds (`2026-12-07T19:22:56.839Z`).
    /// Formatted by hand: Foundation's formatters load ICU data on first use, a quarter
    /// of a second that every short run would pay.
    public var wallStartText: String {
        let totalMilliseconds = Int64((wallStart.timeIntervalSince1970 * 1000).rounded())
        var seconds = time_t(totalMilliseconds / 1000)
        let milliseconds = Int(totalMilliseconds % 1000)
        var parts = tm()
        gmtime_r(&seconds, &parts)
        func padded(_ value: Int32, _ width: Int) -> String {
            let digits = String(value)
            return String(repeating: "0", count: max(0, width - digits.count)) + digits
        }
        return "\(padded(parts.tm_year + 1900, 4))-\(padded(parts.tm_mon + 1, 2))-\(padded(parts.tm_mday, 2))T"
            + "\(padded(parts.tm_hour, 2)):\(padded(parts.tm_min, 2)):\(padded(parts.tm_sec, 2)).\(padded(Int32(milliseconds), 3))Z"
    }

    /// Milliseconds since the run started.
    public func offset(at instant: Deadline = .now()) -> Int {
        Int((instant.uptimeNanoseconds &- start.uptimeNanoseconds) / 1_000_000)
    }
}

import Fleet
import Glibc
import Locking

/// The one-line progress of a fleet command on a terminal's stderr: hosts
/// done of all, failures so far, and for transfers the bytes moved, the rate
/// and (when the total is known) the time left. Redrawn at most four times a
/// second as events arrive, erased when the run ends.
final class ProgressLine: RunEventSubscriber {
    private struct State {
        var done = 0
        var failed = 0
        /// Bytes so far of each host still transferring.
        var inFlight: [String: UInt64] = [:]
        var finishedBytes: UInt64 = 0
        var firstByteAt: Int?
        var drawnAt: Int?
    }

    private let operation: String
    private let hosts: Int
    /// All bytes the run will move, when known (a push of the same files to every host).
    private let totalBytes: UInt64?
    private let showsBytes: Bool
    private let console: ConsoleWriter
    private let state = Locked(State())
    static let interval = 250

    init(operation: String, hosts: Int, transfers: Bool, totalBytes: UInt64?, console: ConsoleWriter = .shared) {
        self.operation = operation
        self.hosts = hosts
        self.totalBytes = totalBytes
        showsBytes = transfers
        self.console = console
    }

    func receive(_ event: RunEvent) {
        let line = state.withLock { state -> String? in
            switch event.kind {
            case .transferProgress(let progress):
                state.inFlight[progress.host] = progress.bytes
                if state.firstByteAt == nil { state.firstByteAt = event.offset }
            case .hostEnded(let record):
                state.done += 1
                if !record.status.isSuccess { state.failed += 1 }
                state.finishedBytes += record.bytesTransferred ?? state.inFlight[record.host] ?? 0
                state.inFlight[record.host] = nil
            case .runEnded:
                return ""
            default:
                return nil
            }
            if let drawn = state.drawnAt, event.offset - drawn < Self.interval, state.done < hosts { return nil }
            state.drawnAt = event.offset
            return text(state, at: event.offset)
        }
        guard let line else { return }
        if line.isEmpty { console.clearStatus() } else { console.showStatus(line) }
    }

    private func text(_ state: State, at offset: Int) -> String {
        var parts = ["\(operation): \(state.done)/\(hosts) hosts"]
        if state.failed > 0 { parts.append("\(state.failed) failed") }
        if showsBytes {
            let bytes = state.finishedBytes + state.inFlight.values.reduce(0, +)
            parts.append(totalBytes.map { "\(Self.size(bytes)) of \(Self.size($0))" } ?? Self.size(bytes))
            if let first = state.firstByteAt, offset - first >= 500 {
                let rate = Double(bytes) / (Double(offset - first) / 1000)
                parts.append("\(Self.size(UInt64(rate)))/s")
                if let totalBytes, rate > 0, totalBytes > bytes {
                    parts.append("ETA \(Self.duration(Double(totalBytes - bytes) / rate))")
                }
            }
        }
        return parts.joined(separator: ", ")
    }

    static func size(_ bytes: UInt64) -> String {
        let units = ["B", "KiB", "MiB", "GiB", "TiB"]
        var value = Double(bytes)
        var unit = 0
        while value >= 1024, unit < units.count - 1 {
            value /= 1024
            unit += 1
        }
        return unit == 0 ? "\(bytes) B" : "\((value * 10).rounded() / 10) \(units[unit])"
    }

    static func duration(_ seconds: Double) -> String {
        let whole = Int(seconds.rounded(.up))
        return whole >= 60 ? "\(whole / 60)m\(String(format: "%02d", whole % 60))s" : "\(whole)s"
    }
}

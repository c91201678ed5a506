import Locking
import Platform

/// Output of a command run on a pseudo-terminal, passed on with its `\r\n`
/// line endings turned into `\n` (a lone `\r`, as progress bars print, stays).
final class TerminalLineEndings: OutputSink {
    private let next: any OutputSink
    /// Per stream: a `\r` seen at the end of the last chunk, not yet passed on.
    private let pendingReturn = Locked([false, false])

    init(_ next: any OutputSink) {
        self.next = next
    }

    func write(_ bytes: UnsafeRawBufferPointer, to stream: OutputStreamKind) {
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count + 1)
        var pending = pendingReturn.withLock { $0[stream.rawValue] }
        for byte in bytes {
            if pending {
                pending = false
                if byte != UInt8(ascii: "\n") { out.append(UInt8(ascii: "\r")) }
            }
            if byte == UInt8(ascii: "\r") {
                pending = true
            } else {
                out.append(byte)
            }
        }
        pendingReturn.withLock { $0[stream.rawValue] = pending }
        out.withUnsafeBytes { next.write($0, to: stream) }
    }

    func canAcceptMore(orResume resume: @escaping @Sendable () -> Void) -> Bool {
        next.canAcceptMore(orResume: resume)
    }

    /// Passes on a `\r` the output ended with.
    func flush() {
        for stream in OutputStreamKind.allCases where pendingReturn.withLock({ $0[stream.rawValue] }) {
            pendingReturn.withLock { $0[stream.rawValue] = false }
            [UInt8(ascii: "\r")].withUnsafeBytes { next.write($0, to: stream) }
        }
    }
}

import Glibc
import Synchronization

/// Serialises writes to the process's stdout and stderr so lines from many
/// hosts never interleave mid-line.
public final class ConsoleWriter: Sendable {
    public static let shared = ConsoleWriter()

    private let lock = Mutex(())

    public enum Destination: Sendable { case stdout, stderr }

    public func write(_ text: String, to destination: Destination = .stdout) {
        var copy = text
        copy.withUTF8 { write(UnsafeRawBufferPointer($0), to: destination) }
    }

    public func write(_ bytes: UnsafeRawBufferPointer, to destination: Destination) {
        lock.withLock { _ in Self.writeAll(bytes, fd: destination == .stdout ? 1 : 2) }
    }

    /// Writes `prefix`, `line` and a newline as one unit.
    public func writeLine(prefix: [UInt8], line: ArraySlice<UInt8>, to destination: Destination) {
        var buffer = prefix
        buffer.reserveCapacity(prefix.count + line.count + 1)
        buffer.append(contentsOf: line)
        buffer.append(UInt8(ascii: "\n"))
        buffer.withUnsafeBytes { write($0, to: destination) }
    }

    private static func writeAll(_ bytes: UnsafeRawBufferPointer, fd: Int32) {
        var offset = 0
        while offset < bytes.count {
            let n = Glibc.write(fd, bytes.baseAddress! + offset, bytes.count - offset)
            if n < 0 {
                if errno == EINTR { continue }
                return
            }
            offset += n
        }
    }
}

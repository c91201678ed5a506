import Locking

/// Tasker's stdout and stderr. Every write goes through the shared
/// `OutputWriter`, so lines from many hosts never interleave mid-line, output
/// keeps its order, and no event loop ever waits for the terminal.
///
/// It may also keep one status line (progress) at the bottom of a terminal's
/// stderr: every other write first erases it and then draws it again below,
/// so output lines scroll above it and never mix with it.
public final class ConsoleWriter: Sendable {
    public static let shared = ConsoleWriter(writer: .shared)

    public enum Destination: Sendable {
        case stdout, stderr

        var fd: Int32 { self == .stdout ? 1 : 2 }
    }

    public let writer: OutputWriter
    /// The status line shown now; held while queuing, so draws and erasures queue in the order they were decided.
    private let status = Locked<[UInt8]?>(nil)
    private static let erase = Array("\r\u{1B}[K".utf8)

    public init(writer: OutputWriter) {
        self.writer = writer
    }

    public func write(_ text: String, to destination: Destination = .stdout) {
        write(bytes: Array(text.utf8), to: destination)
    }

    public func write(_ bytes: UnsafeRawBufferPointer, to destination: Destination) {
        write(bytes: Array(bytes), to: destination)
    }

    /// Writes `prefix`, `line` and a newline as one unit.
    public func writeLine(prefix: [UInt8], line: ArraySlice<UInt8>, to destination: Destination) {
        var buffer = prefix
        buffer.reserveCapacity(prefix.count + line.count + 1)
        buffer.append(contentsOf: line)
        buffer.append(UInt8(ascii: "\n"))
        write(bytes: buffer, to: destination)
    }

    /// Shows `text` as the status line (one line, no newline), replacing the one shown.
    public func showStatus(_ text: String) {
        status.withLock { status in
            writer.write(Self.erase + Array(text.utf8), to: 2)
            status = Array(text.utf8)
        }
    }

    /// Erases the status line, leaving the cursor at the start of an empty line.
    public func clearStatus() {
        status.withLock { status in
            guard status != nil else { return }
            writer.write(Self.erase, to: 2)
            status = nil
        }
    }

    /// Waits until everything written so far has reached the terminal (before
    /// exiting, or before reading an answer to a prompt).
    public func flush() {
        writer.flush()
    }

    private func write(bytes: [UInt8], to destination: Destination) {
        status.withLock { status in
            guard let status else { return writer.write(bytes, to: destination.fd) }
            writer.write(Self.erase, to: 2)
            writer.write(bytes, to: destination.fd)
            writer.write(status, to: 2)
        }
    }
}

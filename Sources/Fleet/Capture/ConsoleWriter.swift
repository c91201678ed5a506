/// Tasker's stdout and stderr. Every write goes through the shared
/// `OutputWriter`, so lines from many hosts never interleave mid-line, output
/// keeps its order, and no event loop ever waits for the terminal.
public final class ConsoleWriter: Sendable {
    public static let shared = ConsoleWriter(writer: .shared)

    public enum Destination: Sendable {
        case stdout, stderr

        var fd: Int32 { self == .stdout ? 1 : 2 }
    }

    public let writer: OutputWriter

    public init(writer: OutputWriter) {
        self.writer = writer
    }

    public func write(_ text: String, to destination: Destination = .stdout) {
        writer.write(Array(text.utf8), to: destination.fd)
    }

    public func write(_ bytes: UnsafeRawBufferPointer, to destination: Destination) {
        writer.write(Array(bytes), to: destination.fd)
    }

    /// Writes `prefix`, `line` and a newline as one unit.
    public func writeLine(prefix: [UInt8], line: ArraySlice<UInt8>, to destination: Destination) {
        var buffer = prefix
        buffer.reserveCapacity(prefix.count + line.count + 1)
        buffer.append(contentsOf: line)
        buffer.append(UInt8(ascii: "\n"))
        writer.write(buffer, to: destination.fd)
    }

    /// Waits until everything written so far has reached the terminal (before
    /// exiting, or before reading an answer to a prompt).
    public func flush() {
        writer.flush()
    }
}

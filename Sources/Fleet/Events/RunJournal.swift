import Foundation
import Glibc

/// The run's events on disk (`--journal FILE`): one JSON object per line, in
/// the order they happened, each written as it is delivered through the
/// shared output writer — off the event loops, and a run killed at any point
/// leaves whole lines up to the last one written.
public final class RunJournal: RunEventSubscriber {
    public let path: String
    private let fd: Int32
    private let writer: OutputWriter
    private let masker: SecretMasker

    /// Creates (or empties) `path`; `masker` hides the run's secrets in every string written.
    public init(path: String, masker: SecretMasker = SecretMasker(), writer: OutputWriter = .shared) throws {
        let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard fd >= 0 else {
            throw FleetError.badInput("cannot write journal \(path): \(String(cString: strerror(errno)).lowercased())")
        }
        self.path = path
        self.fd = fd
        self.masker = masker
        self.writer = writer
    }

    public func receive(_ event: RunEvent) {
        var line = RecordCoding.bytes(event.masked(by: masker))
        line.append(UInt8(ascii: "\n"))
        writer.write(line, to: fd)
    }

    /// Closes the file once everything queued for it is written.
    public func close() {
        writer.close(fd)
    }
}

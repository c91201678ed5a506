import Foundation
import Glibc
import Locking
import Platform

/// Where one host's output goes besides its bounded buffers.
public struct CaptureOptions: Sendable {
    /// Bytes kept from the start and from the end of each stream.
    public var headBytes: Int
    public var tailBytes: Int
    /// When set, each host's full streams are also written to `DIR/HOST.stdout` and `DIR/HOST.stderr`.
    public var outputDirectory: String?
    /// Where complete lines go as they arrive; nil to only capture.
    public var live: LiveLines?

    public init(headBytes: Int = 64 << 10, tailBytes: Int = 64 << 10, outputDirectory: String? = nil, live: LiveLines? = nil) {
        self.headBytes = headBytes
        self.tailBytes = tailBytes
        self.outputDirectory = outputDirectory
        self.live = live
    }
}

/// A finished stream: the retained text and exact byte count.
public struct CapturedStream: Sendable, Equatable {
    public var text: String
    public var bytes: UInt64
    public var truncated: Bool

    public init(text: String = "", bytes: UInt64 = 0, truncated: Bool = false) {
        self.text = text
        self.bytes = bytes
        self.truncated = truncated
    }
}

/// The capture of one host's stdout and stderr: bounded buffers, optional
/// spill files and optional live lines. Fed on an event-loop thread, read
/// once the host is done.
public final class OutputCapture: OutputSink {
    private struct Stream {
        var buffer: BoundedBuffer
        var lines = LineSplitter()
        /// `--output-dir` file, written through the output writer.
        var spill: Int32?
    }

    private struct State {
        var streams: [Stream]
        var finished = false
    }

    public let label: String
    private let live: LiveLines?
    private let writer: OutputWriter
    private let state: Locked<State>

    public init(label: String, options: CaptureOptions, writer: OutputWriter = .shared) throws {
        self.label = label
        live = options.live
        self.writer = writer
        var streams: [Stream] = []
        for kind in OutputStreamKind.allCases {
            var stream = Stream(buffer: BoundedBuffer(headLimit: options.headBytes, tailLimit: options.tailBytes))
            if let directory = options.outputDirectory {
                do {
                    stream.spill = try Self.openSpillFile(directory: directory, label: label, kind: kind)
                } catch {
                    for opened in streams.compactMap(\.spill) { writer.close(opened) }
                    throw error
                }
            }
            streams.append(stream)
        }
        state = Locked(State(streams: streams))
    }

    deinit {
        // A capture dropped without finish() still gives its files back.
        for fd in state.withLock({ $0.streams.compactMap(\.spill) }) { writer.close(fd) }
    }

    public func write(_ bytes: UnsafeRawBufferPointer, to stream: OutputStreamKind) {
        state.withLock { state in
            state.streams[stream.rawValue].buffer.append(bytes)
            if let spill = state.streams[stream.rawValue].spill {
                writer.write(Array(bytes), to: spill)
            }
            if let live {
                state.streams[stream.rawValue].lines.feed(bytes) { live.emit(label, stream, $0) }
            }
        }
    }

    public func canAcceptMore(orResume resume: @escaping @Sendable () -> Void) -> Bool {
        guard live != nil || state.withLock({ $0.streams[0].spill != nil }) else { return true }
        return writer.canAcceptMore(orResume: resume)
    }

    /// Bytes written to each stream so far.
    public var byteCounts: (stdout: UInt64, stderr: UInt64) {
        state.withLock { ($0.streams[0].buffer.totalBytes, $0.streams[1].buffer.totalBytes) }
    }

    /// Flushes partial live lines, closes spill files and returns both streams.
    public func finish() -> (stdout: CapturedStream, stderr: CapturedStream) {
        state.withLock { state in
            if !state.finished {
                state.finished = true
                for kind in OutputStreamKind.allCases {
                    let index = kind.rawValue
                    if let live {
                        state.streams[index].lines.flush { live.emit(label, kind, $0) }
                    }
                    if let spill = state.streams[index].spill { writer.close(spill) }
                    state.streams[index].spill = nil
                }
            }
            let captured = state.streams.map {
                CapturedStream(text: $0.buffer.text, bytes: $0.buffer.totalBytes, truncated: $0.buffer.isTruncated)
            }
            return (captured[0], captured[1])
        }
    }

    private static func openSpillFile(directory: String, label: String, kind: OutputStreamKind) throws -> Int32 {
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let safeName = label.map { $0 == "/" ? "_" : $0 }
        let path = "\(directory)/\(String(safeName)).\(kind == .stdout ? "stdout" : "stderr")"
        let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard fd >= 0 else {
            throw FleetError.badInput("cannot create output file \(path): \(String(cString: strerror(errno)).lowercased())")
        }
        return fd
    }
}

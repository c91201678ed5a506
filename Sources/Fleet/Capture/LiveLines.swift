import Platform

/// Where complete output lines go while hosts run: the console with
/// `host: ` prefixes (`tasker exec`), or any other consumer such as a workflow log.
public struct LiveLines: Sendable {
    /// Called on an event-loop thread with the host's label, the stream and one line without its newline.
    public let emit: @Sendable (_ label: String, _ stream: OutputStreamKind, _ line: ArraySlice<UInt8>) -> Void

    public init(emit: @escaping @Sendable (_ label: String, _ stream: OutputStreamKind, _ line: ArraySlice<UInt8>) -> Void) {
        self.emit = emit
    }

    /// `host: line` on Tasker's stdout or stderr, as the remote wrote it.
    public static let console = LiveLines { label, stream, line in
        ConsoleWriter.shared.writeLine(prefix: Array("\(label): ".utf8), line: line,
                                       to: stream == .stdout ? .stdout : .stderr)
    }
}

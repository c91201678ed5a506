/// Which remote stream a chunk of output came from.
public enum OutputStreamKind: Int, Sendable, CaseIterable {
    case stdout = 0
    case stderr = 1
}

/// Receives a command's output as it arrives. Called on the connection's
/// event-loop thread; implementations must be quick and must not block.
public protocol OutputSink: AnyObject, Sendable {
    func write(_ bytes: UnsafeRawBufferPointer, to stream: OutputStreamKind)
}

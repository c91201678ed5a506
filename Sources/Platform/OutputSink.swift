/// Which remote stream a chunk of output came from.
public enum OutputStreamKind: Int, Sendable, CaseIterable {
    case stdout = 0
    case stderr = 1
}

/// Receives a command's output as it arrives. Called on the connection's
/// event-loop thread; implementations must be quick and must never block.
public protocol OutputSink: AnyObject, Sendable {
    func write(_ bytes: UnsafeRawBufferPointer, to stream: OutputStreamKind)

    /// Whether the sink can take more output now. When it answers false, it
    /// calls `resume` (from any thread) once it can; until then the channel is
    /// not read, so SSH flow control holds the remote command back, and only it.
    func canAcceptMore(orResume resume: @escaping @Sendable () -> Void) -> Bool
}

extension OutputSink {
    public func canAcceptMore(orResume resume: @escaping @Sendable () -> Void) -> Bool { true }
}

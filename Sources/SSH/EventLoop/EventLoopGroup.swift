import Glibc

import Synchronization

/// A fixed set of event loops; connections are spread over them round-robin.
public final class EventLoopGroup: Sendable {
    public let loops: [EventLoop]
    private let nextIndex = Atomic<Int>(0)

    public init(threads: Int) {
        precondition(threads > 0)
        loops = (0..<threads).map { EventLoop(name: "tasker-loop-\($0)") }
    }

    /// Two loops on a multi-core machine, one otherwise: libssh2's crypto is
    /// the main cost, and more threads than cores only adds switching.
    public static let shared = EventLoopGroup(threads: min(2, max(1, System.coreCount)))

    public func next() -> EventLoop {
        let index = nextIndex.wrappingAdd(1, ordering: .relaxed).oldValue
        return loops[index % loops.count]
    }
}

enum System {
    static var coreCount: Int {
        Int(sysconf(Int32(_SC_NPROCESSORS_ONLN)))
    }
}

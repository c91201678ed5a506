import Dispatch
import Glibc
import Synchronization

/// Turns SIGINT and SIGTERM into cancellation of the running work, so remote
/// commands are killed before Tasker exits (130 for SIGINT, 143 for SIGTERM).
/// `@unchecked`: `sources` is written once, in `install`, before any signal can arrive.
final class InterruptHandler: @unchecked Sendable {
    private let received = Atomic<Int32>(0)
    private var sources: [DispatchSourceSignal] = []

    /// The signal that arrived, if any.
    var signal: Int32? {
        let value = received.load(ordering: .acquiring)
        return value == 0 ? nil : value
    }

    var exitStatus: Int32? {
        signal.map { 128 + $0 }
    }

    func install(onSignal: @escaping @Sendable () -> Void) {
        let installed = [SIGINT, SIGTERM].map { number -> DispatchSourceSignal in
            Glibc.signal(number, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
            source.setEventHandler { [self] in
                if received.compareExchange(expected: 0, desired: number, ordering: .acquiringAndReleasing).exchanged {
                    onSignal()
                } else {
                    // A second signal: stop waiting for cleanup.
                    Glibc.exit(128 + number)
                }
            }
            source.resume()
            return source
        }
        sources = installed
    }
}

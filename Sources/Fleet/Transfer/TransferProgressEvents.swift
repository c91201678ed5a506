import Platform

/// A host's `transfer_progress` events: the bytes sent or received so far, at most four times a second.
struct TransferProgressEvents {
    private let host: String
    private let sink: RunEventSink?
    private var lastEmitted: Deadline?
    private static let interval: UInt64 = 250_000_000

    init(_ spec: ConnectionSpec, _ options: FleetRunOptions) {
        host = spec.name
        sink = options.events
    }

    mutating func update(bytes: UInt64) {
        guard let sink else { return }
        let now = Deadline.now()
        if let lastEmitted, now.uptimeNanoseconds &- lastEmitted.uptimeNanoseconds < Self.interval { return }
        lastEmitted = now
        sink.emit(.transferProgress(.init(host: host, bytes: bytes)))
    }
}

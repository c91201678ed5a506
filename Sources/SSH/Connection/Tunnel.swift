import CLibSSH2
import Glibc

/// The byte stream of a session that a jump host carries: a `direct-tcpip`
/// channel of the jump host's connection (the carrier) stands in for the
/// socket. The tunnelled session reads and writes two bounded queues through
/// the shim's callbacks; the carrier moves bytes between the queues and its
/// channel. Both connections run on the same loop, so nothing is copied
/// through the kernel and no thread is added.
///
/// Loop-confined: used only by the two connections, on their loop's thread.
final class Tunnel: @unchecked Sendable {
    /// Bytes each queue holds: enough for the largest SSH packet.
    static let queueCapacity = 64 << 10

    /// What libssh2 is given as the tunnelled session's socket: it insists on a
    /// valid descriptor but, with the shim's callbacks, never reads or writes it.
    /// Already non-blocking, so libssh2 leaves its flags alone. Shared by all tunnels.
    static let placeholderSocket: Int32 = open("/dev/null", O_RDWR | O_NONBLOCK | O_CLOEXEC)

    /// Where the tunnel leads, as the carrier asked for it (`web07:22`).
    let destination: String
    /// The carrier's host, for messages (`bastion1`).
    let carrierName: String
    let buffers: UnsafeMutablePointer<tasker_tunnel_buffers>
    /// Fired for the tunnelled session when bytes arrive, room frees up or the tunnel ends.
    let sessionWatcher: SocketWatcher
    /// Why the tunnel ended, once it has.
    private(set) var endReason: String?
    /// The tunnelled session is done with the tunnel; the carrier closes the channel.
    private(set) var released = false
    /// The carrier's wait for work, while it waits.
    private var carrierWait: (watcher: SocketWatcher, id: UInt64)?
    /// Work arrived while the carrier was not waiting.
    private var carrierPoked = false
    private let whenEnded: (@Sendable () -> Void)?

    init(loop: EventLoop, destination: String, carrierName: String, whenEnded: (@Sendable () -> Void)?) {
        self.destination = destination
        self.carrierName = carrierName
        self.whenEnded = whenEnded
        sessionWatcher = SocketWatcher(loop: loop)
        let capacity = Self.queueCapacity
        buffers = .allocate(capacity: 1)
        buffers.initialize(to: tasker_tunnel_buffers(
            inbound: .allocate(capacity: capacity), inbound_length: 0, inbound_capacity: capacity,
            outbound: .allocate(capacity: capacity), outbound_length: 0, outbound_capacity: capacity,
            ended: 0, wake_carrier: wakeCarrier, context: nil))
        buffers.pointee.context = Unmanaged.passUnretained(self).toOpaque()
    }

    deinit {
        buffers.pointee.inbound.deallocate()
        buffers.pointee.outbound.deallocate()
        buffers.deallocate()
    }

    // MARK: The tunnelled session's side

    /// The session is done with the tunnel (closed or failed): its reads and
    /// writes fail from now on, and the carrier sends what is queued and closes the channel.
    func release() {
        guard !released else { return }
        released = true
        buffers.pointee.ended = 1
        pokeCarrier()
    }

    // MARK: The carrier's side

    /// Ends the tunnel for the session: it reads what is queued, then fails with `reason`.
    func end(_ reason: String) {
        if endReason == nil { endReason = reason }
        buffers.pointee.ended = 1
        sessionWatcher.hangUp()
    }

    /// Called by the carrier once the channel is gone.
    func carrierFinished() {
        whenEnded?()
    }

    /// True, once, when work arrived since the carrier last looked.
    func takePoke() -> Bool {
        defer { carrierPoked = false }
        return carrierPoked
    }

    func carrierWaits(on watcher: SocketWatcher, id: UInt64) {
        carrierWait = (watcher, id)
    }

    func carrierResumed() {
        carrierWait = nil
    }

    fileprivate func pokeCarrier() {
        if let wait = carrierWait {
            carrierWait = nil
            wait.watcher.finish(wait.id, .ready)
        } else {
            carrierPoked = true
        }
    }
}

/// The shim calls this when the tunnelled session queued bytes or made room.
private let wakeCarrier: @convention(c) (UnsafeMutableRawPointer?) -> Void = { context in
    guard let context else { return }
    Unmanaged<Tunnel>.fromOpaque(context).takeUnretainedValue().pokeCarrier()
}

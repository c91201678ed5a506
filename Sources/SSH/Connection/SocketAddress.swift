import Dispatch
import Glibc
import Platform

/// A resolved IPv4 or IPv6 endpoint.
struct SocketAddress: Sendable, CustomStringConvertible {
    var storage: sockaddr_storage
    var length: socklen_t
    var family: Int32

    /// Every address `host` (an IP literal or a name) resolves to for `port`, in
    /// getaddrinfo's order. getaddrinfo blocks, so a name is looked up on a
    /// worker thread and the caller stops waiting at `deadline` or on cancellation.
    static func resolve(_ host: String, port: Int, deadline: Deadline) async throws -> [SocketAddress] {
        if let literal = try? lookup(host, port: port, numericOnly: true) { return literal }
        let timeout = deadline.secondsRemaining
        return try await firstOutcome { once in
            DispatchQueue.global().async {
                once.resume(with: Result { try lookup(host, port: port, numericOnly: false) })
            }
            if timeout.isFinite {
                DispatchQueue.global().asyncAfter(deadline: .now() + max(0, timeout)) {
                    once.resume(throwing: SSHError(.unreachable, phase: .resolve,
                                                   "cannot resolve \(host): no answer within the connect timeout"))
                }
            }
        } onCancel: { once in
            once.resume(throwing: SSHError(.cancelled, phase: .resolve, "cancelled"))
        }
    }

    private static func lookup(_ host: String, port: Int, numericOnly: Bool) throws -> [SocketAddress] {
        var hints = addrinfo()
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        hints.ai_family = AF_UNSPEC
        if numericOnly { hints.ai_flags = AI_NUMERICHOST | AI_NUMERICSERV }
        var result: UnsafeMutablePointer<addrinfo>?
        let status = getaddrinfo(host, String(port), &hints, &result)
        guard status == 0, result != nil else {
            throw SSHError(.unreachable, phase: .resolve,
                           "cannot resolve \(host): \(String(cString: gai_strerror(status)))")
        }
        defer { freeaddrinfo(result) }
        var addresses: [SocketAddress] = []
        var entry = result
        while let current = entry {
            var storage = sockaddr_storage()
            withUnsafeMutableBytes(of: &storage) { raw in
                raw.copyMemory(from: UnsafeRawBufferPointer(start: current.pointee.ai_addr,
                                                            count: Int(current.pointee.ai_addrlen)))
            }
            addresses.append(SocketAddress(storage: storage, length: current.pointee.ai_addrlen, family: current.pointee.ai_family))
            entry = current.pointee.ai_next
        }
        return addresses
    }

    private static func string(_ nulTerminated: [CChar]) -> String {
        String(decoding: nulTerminated.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// `127.0.0.1:22` or `[::1]:22`.
    var description: String {
        var host = [CChar](repeating: 0, count: Int(NI_MAXHOST))
        var service = [CChar](repeating: 0, count: Int(NI_MAXSERV))
        var copy = storage
        let status = withUnsafePointer(to: &copy) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                getnameinfo($0, length, &host, socklen_t(host.count), &service, socklen_t(service.count),
                            NI_NUMERICHOST | NI_NUMERICSERV)
            }
        }
        guard status == 0 else { return "?" }
        let name = Self.string(host)
        let port = Self.string(service)
        return family == AF_INET6 ? "[\(name)]:\(port)" : "\(name):\(port)"
    }
}

enum TCPSocket {
    /// Opens a non-blocking socket with Tasker's options and starts connecting;
    /// returns the fd and whether the connect is still in progress.
    static func startConnect(to address: SocketAddress, deadPeerTimeout: Double?) throws -> (fd: Int32, pending: Bool) {
        let fd = socket(address.family, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_NONBLOCK.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else {
            let error = errno
            throw SSHError(.other, phase: .connect, "socket: \(String(cString: strerror(error)))\(error == EMFILE ? FileDescriptorLimit.hint : "")")
        }
        configure(fd, deadPeerTimeout: deadPeerTimeout)
        var storage = address.storage
        let rc = withUnsafePointer(to: &storage) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, address.length) }
        }
        if rc == 0 { return (fd, false) }
        if errno == EINPROGRESS { return (fd, true) }
        let error = errno
        close(fd)
        throw connectError(error)
    }

    /// TCP_NODELAY for request/response exchanges; with a dead-peer timeout, TCP
    /// keepalives and TCP_USER_TIMEOUT so that unacknowledged data fails the socket too.
    private static func configure(_ fd: Int32, deadPeerTimeout: Double?) {
        func set(_ level: Int32, _ option: Int32, _ value: Int32) {
            var value = value
            setsockopt(fd, level, option, &value, socklen_t(MemoryLayout<Int32>.size))
        }
        set(Int32(IPPROTO_TCP), TCP_NODELAY, 1)
        guard let timeout = deadPeerTimeout else { return }
        let probeInterval = Int32(max(1, (timeout / 3).rounded(.up)))
        set(SOL_SOCKET, SO_KEEPALIVE, 1)
        set(Int32(IPPROTO_TCP), TCP_KEEPIDLE, probeInterval)
        set(Int32(IPPROTO_TCP), TCP_KEEPINTVL, probeInterval)
        set(Int32(IPPROTO_TCP), TCP_KEEPCNT, 3)
        set(Int32(IPPROTO_TCP), TCP_USER_TIMEOUT, Int32(min(timeout * 1000, Double(Int32.max))))
    }

    /// The outcome of a pending connect, once the socket is writable.
    static func pendingError(_ fd: Int32) -> Int32 {
        var error: Int32 = 0
        var length = socklen_t(MemoryLayout<Int32>.size)
        getsockopt(fd, SOL_SOCKET, SO_ERROR, &error, &length)
        return error
    }

    static func connectError(_ error: Int32) -> SSHError {
        SSHError(.unreachable, phase: .connect, String(cString: strerror(error)).lowercased())
    }
}

import Glibc

/// A resolved IPv4 or IPv6 endpoint.
struct SocketAddress: Sendable {
    var storage: sockaddr_storage
    var length: socklen_t
    var family: Int32

    /// Resolves `host` (an IP literal or a name) for `port`. Name lookups use
    /// getaddrinfo, which may block briefly; it runs before the connection
    /// reaches its event loop.
    static func resolve(_ host: String, port: Int) throws -> SocketAddress {
        var hints = addrinfo()
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        hints.ai_family = AF_UNSPEC
        var result: UnsafeMutablePointer<addrinfo>?
        let status = getaddrinfo(host, String(port), &hints, &result)
        guard status == 0, let first = result else {
            throw SSHError(.unreachable, phase: .resolve,
                           "cannot resolve \(host): \(String(cString: gai_strerror(status)))")
        }
        defer { freeaddrinfo(result) }
        var storage = sockaddr_storage()
        withUnsafeMutableBytes(of: &storage) { raw in
            raw.copyMemory(from: UnsafeRawBufferPointer(start: first.pointee.ai_addr,
                                                        count: Int(first.pointee.ai_addrlen)))
        }
        return SocketAddress(storage: storage, length: first.pointee.ai_addrlen, family: first.pointee.ai_family)
    }
}

enum TCPSocket {
    /// Opens a non-blocking socket and starts connecting; returns the fd and
    /// whether the connect is still in progress.
    static func startConnect(to address: SocketAddress) throws -> (fd: Int32, pending: Bool) {
        let fd = socket(address.family, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_NONBLOCK.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else {
            throw SSHError(.other, phase: .connect, "socket: \(String(cString: strerror(errno)))")
        }
        var one: Int32 = 1
        setsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
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

import Dispatch
import Foundation
import Glibc

/// A client of ssh-agent's protocol (draft-miller-ssh-agent) over its Unix socket.
///
/// Agent I/O never runs on an event loop: an agent may wait for the user to
/// confirm a key or touch a hardware token. Each request runs on a worker
/// thread and gives up at its deadline (poll), so a silent agent costs one
/// connection attempt its deadline and no other connection anything.
struct SSHAgentClient: Sendable {
    struct Identity: Sendable {
        /// The public key blob (`string type, ...`).
        let publicBlob: [UInt8]
        let comment: String

        var keyType: String {
            var reader = SSHBufferReader(bytes: publicBlob)
            return reader.readString().map { String(decoding: $0, as: UTF8.self) } ?? "unknown"
        }
    }

    struct Failure: Error, CustomStringConvertible {
        var description: String
    }

    let socketPath: String

    private enum Message: UInt8 {
        case failure = 5
        case requestIdentities = 11
        case identitiesAnswer = 12
        case signRequest = 13
        case signResponse = 14
    }

    /// The keys the agent holds, in its order.
    func identities(deadline: Deadline) async throws -> [Identity] {
        let reply = try await transact([Message.requestIdentities.rawValue], deadline: deadline)
        var reader = SSHBufferReader(bytes: reply)
        guard reader.readByte() == Message.identitiesAnswer.rawValue, let count = reader.readUInt32() else {
            throw Failure(description: "agent refused to list its keys")
        }
        var identities: [Identity] = []
        for _ in 0..<count {
            guard let blob = reader.readString(), let comment = reader.readString() else {
                throw Failure(description: "malformed key list from the agent")
            }
            identities.append(Identity(publicBlob: blob, comment: String(decoding: comment, as: UTF8.self)))
        }
        return identities
    }

    /// Sign-request flags asking for an RSA signature with SHA-2 (draft-miller-ssh-agent §4.5.1).
    static func flags(for algorithm: SignatureAlgorithm) -> UInt32 {
        switch algorithm.name {
        case SignatureAlgorithm.rsaSHA256.name, "rsa-sha2-256-cert-v01@openssh.com": return 2
        case SignatureAlgorithm.rsaSHA512.name, "rsa-sha2-512-cert-v01@openssh.com": return 4
        default: return 0
        }
    }

    /// The agent's signature of `data` with `identity` in `algorithm`, without
    /// its algorithm name (libssh2 adds the name itself).
    func sign(_ data: [UInt8], with identity: Identity, algorithm: SignatureAlgorithm, deadline: Deadline) async throws -> [UInt8] {
        var request = SSHBufferWriter()
        request.writeByte(Message.signRequest.rawValue)
        request.writeString(identity.publicBlob)
        request.writeString(data)
        request.writeUInt32(Self.flags(for: algorithm))
        let reply = try await transact(request.bytes, deadline: deadline)
        var reader = SSHBufferReader(bytes: reply)
        guard reader.readByte() == Message.signResponse.rawValue, let signature = reader.readString() else {
            throw Failure(description: "agent refused to sign with \(identity.comment)")
        }
        var inner = SSHBufferReader(bytes: signature)
        guard let name = inner.readString(), let bytes = inner.readString() else {
            throw Failure(description: "malformed signature from the agent")
        }
        let expected = algorithm.name.replacingOccurrences(of: "-cert-v01@openssh.com", with: "")
        guard String(decoding: name, as: UTF8.self) == expected else {
            throw Failure(description: "agent signed with \(String(decoding: name, as: UTF8.self)) when asked for \(expected)")
        }
        return bytes
    }

    /// Sends one request and reads one reply on a worker thread.
    private func transact(_ request: [UInt8], deadline: Deadline) async throws -> [UInt8] {
        let path = socketPath
        return try await withCheckedThrowingContinuation { continuation in
            DispatchQueue.global().async {
                continuation.resume(with: Result { try Self.blockingTransact(request, path: path, deadline: deadline) })
            }
        }
    }

    private static func blockingTransact(_ request: [UInt8], path: String, deadline: Deadline) throws -> [UInt8] {
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue) | Int32(SOCK_NONBLOCK.rawValue), 0)
        guard fd >= 0 else { throw Failure(description: "agent: socket: \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        let pathBytes = Array(path.utf8)
        guard pathBytes.count < MemoryLayout.size(ofValue: address.sun_path) else {
            throw Failure(description: "agent socket path too long: \(path)")
        }
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            raw.copyBytes(from: pathBytes)
        }
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        if connected != 0, errno != EINPROGRESS, errno != EAGAIN {
            throw Failure(description: "cannot reach the agent at \(path): \(String(cString: strerror(errno)).lowercased())")
        }
        var framed = SSHBufferWriter()
        framed.writeString(request)
        try send(framed.bytes, on: fd, deadline: deadline)
        let header = try receive(4, on: fd, deadline: deadline)
        let length = Int(header.reduce(0) { $0 << 8 | UInt32($1) })
        guard length > 0, length <= 256 << 10 else { throw Failure(description: "agent sent a reply of \(length) bytes") }
        return try receive(length, on: fd, deadline: deadline)
    }

    private static func send(_ bytes: [UInt8], on fd: Int32, deadline: Deadline) throws {
        var offset = 0
        while offset < bytes.count {
            try waitFor(Int16(POLLOUT), on: fd, deadline: deadline)
            let n = bytes[offset...].withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            if n < 0 {
                if errno == EAGAIN || errno == EINTR { continue }
                throw Failure(description: "agent: write: \(String(cString: strerror(errno)).lowercased())")
            }
            offset += n
        }
    }

    private static func receive(_ count: Int, on fd: Int32, deadline: Deadline) throws -> [UInt8] {
        var bytes = [UInt8](repeating: 0, count: count)
        var offset = 0
        while offset < count {
            try waitFor(Int16(POLLIN), on: fd, deadline: deadline)
            let n = bytes[offset...].withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if n == 0 { throw Failure(description: "agent closed the connection") }
            if n < 0 {
                if errno == EAGAIN || errno == EINTR { continue }
                throw Failure(description: "agent: read: \(String(cString: strerror(errno)).lowercased())")
            }
            offset += n
        }
        return bytes
    }

    private static func waitFor(_ events: Int16, on fd: Int32, deadline: Deadline) throws {
        while true {
            let remaining = deadline.secondsRemaining
            guard remaining > 0 else { throw Failure(description: "agent did not answer before the connect deadline") }
            var entry = pollfd(fd: fd, events: events, revents: 0)
            let milliseconds = remaining.isFinite ? Int32(min(remaining * 1000 + 1, 60_000)) : 60_000
            let ready = poll(&entry, 1, milliseconds)
            if ready > 0 { return }
            if ready < 0, errno != EINTR { throw Failure(description: "agent: poll: \(String(cString: strerror(errno)))") }
        }
    }
}

import Foundation
import Glibc
import Platform

/// A client of ssh-agent's protocol (draft-miller-ssh-agent) over its Unix socket.
///
/// Each request opens the socket non-blocking and waits for it on the event
/// loop of the connection that asks, within the connection's deadline: an
/// agent waiting for the user to confirm a key or touch a hardware token holds
/// up that one connection and never the loop.
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

    /// The keys the agent holds, in its order. Runs on `loop`.
    func identities(on loop: EventLoop, deadline: Deadline,
                    isolation: isolated (any Actor)? = #isolation) async throws -> [Identity] {
        let reply = try await transact([Message.requestIdentities.rawValue], on: loop, deadline: deadline)
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
    func sign(_ data: [UInt8], with identity: Identity, algorithm: SignatureAlgorithm, on loop: EventLoop,
              deadline: Deadline, isolation: isolated (any Actor)? = #isolation) async throws -> [UInt8] {
        var request = SSHBufferWriter()
        request.writeByte(Message.signRequest.rawValue)
        request.writeString(identity.publicBlob)
        request.writeString(data)
        request.writeUInt32(Self.flags(for: algorithm))
        let reply = try await transact(request.bytes, on: loop, deadline: deadline)
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

    /// Sends one request and reads one reply. The caller runs on `loop` (its
    /// executor), which watches the agent's socket.
    private func transact(_ request: [UInt8], on loop: EventLoop, deadline: Deadline,
                          isolation: isolated (any Actor)? = #isolation) async throws -> [UInt8] {
        precondition(loop.inLoop, "agent requests run on the asking connection's loop")
        let fd = try connect()
        let watcher = SocketWatcher(loop: loop, fd: fd)
        defer {
            watcher.stop()
            close(fd)
        }
        var framed = SSHBufferWriter()
        framed.writeString(request)
        var offset = 0
        while offset < framed.bytes.count {
            let n = framed.bytes[offset...].withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            if n >= 0 {
                offset += n
            } else if errno == EAGAIN || errno == EINTR {
                try await wait(.writable, watcher, deadline)
            } else {
                throw Failure(description: "agent: write: \(String(cString: strerror(errno)).lowercased())")
            }
        }
        var reply: [UInt8] = []
        var expected: Int?
        var buffer = [UInt8](repeating: 0, count: 16 << 10)
        while reply.count < (expected.map { $0 + 4 } ?? 4) {
            let n = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if n > 0 {
                reply += buffer.prefix(n)
                if expected == nil, reply.count >= 4 {
                    let length = Int(reply.prefix(4).reduce(UInt32(0)) { $0 << 8 | UInt32($1) })
                    guard length > 0, length <= 256 << 10 else { throw Failure(description: "agent sent a reply of \(length) bytes") }
                    expected = length
                }
            } else if n == 0 {
                throw Failure(description: "agent closed the connection")
            } else if errno == EAGAIN || errno == EINTR {
                try await wait(.readable, watcher, deadline)
            } else {
                throw Failure(description: "agent: read: \(String(cString: strerror(errno)).lowercased())")
            }
        }
        return Array(reply[4...])
    }

    private func wait(_ interest: IOInterest, _ watcher: SocketWatcher, _ deadline: Deadline,
                      isolation: isolated (any Actor)? = #isolation) async throws {
        let id = watcher.makeWaiterID()
        let outcome = await withCheckedContinuation { continuation in
            watcher.register(id, interest: interest, deadline: deadline, continuation: continuation)
        }
        switch outcome {
        case .ready: return
        case .timedOut: throw Failure(description: "agent did not answer before the connect deadline")
        case .cancelled: throw Failure(description: "agent request cancelled")
        }
    }

    /// A non-blocking connection to the agent's socket.
    private func connect() throws -> Int32 {
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue) | Int32(SOCK_NONBLOCK.rawValue), 0)
        guard fd >= 0 else { throw Failure(description: "agent: socket: \(String(cString: strerror(errno)))") }
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        let pathBytes = Array(socketPath.utf8)
        guard pathBytes.count < MemoryLayout.size(ofValue: address.sun_path) else {
            close(fd)
            throw Failure(description: "agent socket path too long: \(socketPath)")
        }
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            raw.copyBytes(from: pathBytes)
        }
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.connect(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        // A Unix socket connects at once or not at all (EAGAIN: the agent's backlog is full).
        if connected != 0 {
            let reason = String(cString: strerror(errno)).lowercased()
            close(fd)
            throw Failure(description: "cannot reach the agent at \(socketPath): \(reason)")
        }
        return fd
    }
}

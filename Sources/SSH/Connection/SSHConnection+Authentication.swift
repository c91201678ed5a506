import CLibSSH2
import Foundation
import Glibc

extension SSHConnection {
    /// Public-key authentication: the agent's keys first (unless disabled), then key files.
    func authenticate(_ session: OpaquePointer, deadline: Deadline) async throws {
        let user = settings.user
        var tried: [String] = []
        var notes: [String] = []

        if let socket = settings.agentSocket, !socket.isEmpty {
            if try await authenticateWithAgent(session, socket: socket, user: user, deadline: deadline, tried: &tried, notes: &notes) {
                return
            }
        }
        for file in settings.identityFiles {
            guard FileManager.default.isReadableFile(atPath: file) else {
                notes.append("cannot read key file \(file)")
                continue
            }
            tried.append(file)
            let rc: Int32
            if let identity = Ed25519Identity.load(file) {
                rc = try await retry(.auth, until: deadline, onTimeout: .unreachable) {
                    identity.publicBlob.withUnsafeBufferPointer { blob in
                        tasker_userauth_ed25519(session, user, blob.baseAddress, blob.count, identity.abstract)
                    }
                }
            } else {
                rc = try await retry(.auth, until: deadline, onTimeout: .unreachable) {
                    libssh2_userauth_publickey_fromfile_ex(session, user, UInt32(user.utf8.count), nil, file, nil)
                }
            }
            if rc == 0 { return }
            if Self.isSocketError(rc) {
                throw SSHError(.unreachable, phase: .auth, lastErrorMessage(default: "connection lost during authentication"), code: rc)
            }
            if KeyFile.isRSA(file) {
                notes.append("\(file) is an RSA key: libssh2 1.10 signs RSA only with SHA-1 (ssh-rsa), which current OpenSSH servers refuse; use an ed25519 or ECDSA key")
            } else if rc == LIBSSH2_ERROR_FILE {
                notes.append("cannot load \(file) (\(lastErrorMessage(default: "unsupported format or passphrase-protected")))")
            }
        }
        var message = "server refused public-key authentication for user \(user)"
        message += tried.isEmpty ? "; no identities to offer" : " (offered: \(tried.joined(separator: ", ")))"
        if !notes.isEmpty { message += "; " + notes.joined(separator: "; ") }
        throw SSHError(.authFailed, phase: .auth, message)
    }

    /// Offers each agent identity in turn. The agent is asked on a worker
    /// thread (see `SSHAgentClient`); the server round-trips are non-blocking.
    private func authenticateWithAgent(_ session: OpaquePointer, socket: String, user: String, deadline: Deadline,
                                       tried: inout [String], notes: inout [String]) async throws -> Bool {
        let agent = SSHAgentClient(socketPath: socket)
        let identities: [SSHAgentClient.Identity]
        do {
            identities = try await agent.identities(deadline: deadline)
        } catch {
            notes.append("\(error)")
            return false
        }
        for identity in identities {
            tried.append("agent:\(identity.comment)")
            if try await authenticate(session, user: user, with: identity, agent: agent, deadline: deadline, notes: &notes) {
                return true
            }
        }
        return false
    }

    /// One `publickey` attempt whose signature comes from the agent: libssh2's
    /// sign callback answers EAGAIN until the agent's answer is in place.
    private func authenticate(_ session: OpaquePointer, user: String, with identity: SSHAgentClient.Identity,
                              agent: SSHAgentClient, deadline: Deadline, notes: inout [String]) async throws -> Bool {
        let pending = UnsafeMutablePointer<tasker_deferred_signature>.allocate(capacity: 1)
        pending.initialize(to: tasker_deferred_signature())
        let abstract = UnsafeMutablePointer<UnsafeMutableRawPointer?>.allocate(capacity: 1)
        abstract.initialize(to: UnsafeMutableRawPointer(pending))
        defer {
            Glibc.free(pending.pointee.request)
            Glibc.free(pending.pointee.signature)
            pending.deallocate()
            abstract.deallocate()
        }
        while true {
            let before = ioGeneration
            let rc = identity.publicBlob.withUnsafeBufferPointer { blob in
                tasker_userauth_deferred(session, user, blob.baseAddress, blob.count, abstract)
            }
            if rc != LIBSSH2_ERROR_EAGAIN {
                noteProgress(since: before)
                if Self.isSocketError(rc) {
                    throw SSHError(.unreachable, phase: .auth, lastErrorMessage(default: "connection lost during authentication"), code: rc)
                }
                return rc == 0
            }
            if let request = pending.pointee.request, pending.pointee.signature == nil, pending.pointee.failed == 0 {
                let data = [UInt8](UnsafeBufferPointer(start: request, count: pending.pointee.request_length))
                do {
                    let signature = try await agent.sign(data, with: identity, deadline: deadline)
                    let copy = malloc(max(1, signature.count)).assumingMemoryBound(to: UInt8.self)
                    signature.withUnsafeBufferPointer { copy.update(from: $0.baseAddress!, count: signature.count) }
                    pending.pointee.signature = copy
                    pending.pointee.signature_length = signature.count
                } catch {
                    pending.pointee.failed = 1
                    notes.append("\(error)")
                }
                if Task.isCancelled { throw SSHError(.cancelled, phase: .auth, "cancelled") }
                if deadline.hasPassed {
                    throw SSHError(.unreachable, phase: .auth,
                                   "no SSH session within the connect timeout (\(formatSeconds(settings.connectTimeout))): \(notes.last ?? "the agent did not sign")")
                }
                continue
            }
            try await awaitSocket(since: before, phase: .auth, deadline: deadline, onTimeout: .unreachable, cancellable: true)
        }
    }
}

/// Facts about private key files that libssh2 does not report.
enum KeyFile {
    /// Whether the key at `path` is RSA, judged from its `.pub` file or its PEM/OpenSSH header.
    static func isRSA(_ path: String) -> Bool {
        if let pub = try? String(contentsOfFile: path + ".pub", encoding: .utf8) {
            return pub.hasPrefix("ssh-rsa ")
        }
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else { return false }
        if text.contains("BEGIN RSA PRIVATE KEY") { return true }
        guard text.contains("BEGIN OPENSSH PRIVATE KEY") else { return false }
        let body = text.split(separator: "\n").filter { !$0.hasPrefix("-----") }.joined()
        guard let data = Data(base64Encoded: body) else { return false }
        // The public key blob near the start of the container names the key type.
        return String(decoding: data.prefix(128), as: UTF8.self).contains("ssh-rsa")
    }
}

import CLibSSH2
import Foundation

extension SSHConnection {
    /// Public-key authentication: the agent's keys first (unless disabled), then key files.
    func authenticate(_ session: OpaquePointer, deadline: Deadline) async throws {
        let user = settings.user
        var tried: [String] = []
        var notes: [String] = []

        if let socket = settings.agentSocket, !socket.isEmpty {
            if try await authenticateWithAgent(session, socket: socket, user: user, deadline: deadline, tried: &tried) {
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
            if rc == LIBSSH2_ERROR_SOCKET_DISCONNECT || rc == LIBSSH2_ERROR_SOCKET_RECV || rc == LIBSSH2_ERROR_SOCKET_SEND {
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

    /// Offers each agent identity in turn. The agent socket is local, so its
    /// own request/response calls are short; the server round-trips are non-blocking.
    private func authenticateWithAgent(_ session: OpaquePointer, socket: String, user: String, deadline: Deadline,
                                       tried: inout [String]) async throws -> Bool {
        guard let agent = libssh2_agent_init(session) else { return false }
        libssh2_agent_set_identity_path(agent, socket)
        defer {
            libssh2_agent_disconnect(agent)
            libssh2_agent_free(agent)
        }
        guard libssh2_agent_connect(agent) == 0, libssh2_agent_list_identities(agent) == 0 else { return false }
        var previous: UnsafeMutablePointer<libssh2_agent_publickey>?
        while true {
            var identity: UnsafeMutablePointer<libssh2_agent_publickey>?
            guard libssh2_agent_get_identity(agent, &identity, previous) == 0, let identity else { return false }
            previous = identity
            let comment = identity.pointee.comment.map { String(cString: $0) } ?? "key"
            tried.append("agent:\(comment)")
            let rc = try await retry(.auth, until: deadline, onTimeout: .unreachable) {
                libssh2_agent_userauth(agent, user, identity)
            }
            if rc == 0 { return true }
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

import CLibSSH2
import Foundation
import Glibc
import Platform

extension SSHConnection {
    /// Logs in as OpenSSH does: public keys and certificates in `pubkey_prepare`
    /// order (see `OfferedIdentity.plan`), then, when the run has a password,
    /// keyboard-interactive and password. On failure the error lists every
    /// identity offered with the server's answer and the methods it allows.
    func authenticate(_ session: OpaquePointer, deadline connectDeadline: Deadline) async throws {
        var deadline = connectDeadline
        var report = AuthenticationReport()
        let identities = await offeredIdentities(report: &report, deadline: deadline)
        for identity in identities {
            if try await offer(identity, session: session, report: &report, deadline: &deadline) { return }
        }
        if try await authenticateWithPassword(session, report: &report, deadline: &deadline) { return }
        report.allowedMethods = await allowedMethods(session, deadline: deadline)
        throw SSHError(.authFailed, phase: .auth, "\(settings.user)@\(settings.name):\(settings.port): \(report)")
    }

    // MARK: Identities

    private func offeredIdentities(report: inout AuthenticationReport, deadline: Deadline) async -> [OfferedIdentity] {
        let credentials = settings.credentials
        var files: [(path: String, file: IdentityFile)] = []
        for path in settings.identityFiles {
            switch credentials.identityFile(path) {
            case .success(let file): files.append((path, file))
            case .failure(let error): report.note(error.description)
            }
        }
        let certificates = settings.certificateFiles.compactMap { path -> UserCertificate? in
            guard let certificate = UserCertificate(file: path) else {
                report.note("\(AuthenticationReport.displayPath(path)) is not a user certificate")
                return nil
            }
            return certificate
        }
        var agentKeys: [SSHAgentClient.Identity] = []
        if let socket = settings.agentSocket, !socket.isEmpty {
            do {
                agentKeys = try await SSHAgentClient(socketPath: socket).identities(on: loop, deadline: deadline)
            } catch {
                report.note("\(error)")
            }
        }
        return OfferedIdentity.plan(identityFiles: files, certificateFiles: certificates, agentKeys: agentKeys,
                                    identitiesOnly: settings.identitiesOnly)
    }

    /// Offers one identity with each signature algorithm it allows, until the
    /// server takes one. Returns true once authenticated.
    private func offer(_ identity: OfferedIdentity, session: OpaquePointer, report: inout AuthenticationReport,
                       deadline: inout Deadline) async throws -> Bool {
        var blob = identity.blob
        var fileKey: PrivateKey?
        if blob == nil, case .file(let file) = identity.signer {
            // An encrypted PEM key without a .pub file: its public key is known only once decrypted.
            let started = Deadline.now()
            let loaded = await settings.credentials.privateKey(file)
            deadline = deadline.extended(bySecondsSince: started)
            switch loaded {
            case .success(let key):
                fileKey = key
                blob = identity.certificate == nil ? key.publicBlob : nil
                if let certificate = identity.certificate, certificate.certifiedKeyBlob == key.publicBlob { blob = certificate.blob }
            case .failure(let why):
                report.record(identity.label, algorithm: nil, .notOffered(why.description))
                return false
            }
        }
        guard let blob, let kind = identity.certificate?.kind ?? UserKeyKind(keyTypeName: HostKey.typeName(fromBlob: blob) ?? "") else {
            report.record(identity.label, algorithm: nil, .notOffered("key type not supported (Tasker signs with ed25519, RSA and ECDSA keys)"))
            return false
        }
        let algorithms = signatureAlgorithms(for: identity, kind: kind)
        if let certificate = identity.certificate {
            if let problem = certificate.validityProblem() {
                report.record(identity.label, algorithm: certificate.typeName, .notOffered(problem))
                return false
            }
            if !certificate.libssh2CanSign {
                report.record(identity.label, algorithm: certificate.typeName, .notOffered(
                    "libssh2 1.10 cannot sign for ed25519 or RSA certificates (it names the signature after the certificate, which OpenSSH rejects); ECDSA certificates work"))
                return false
            }
        }
        if algorithms.isEmpty {
            report.record(identity.label, algorithm: nil, .notOffered(
                "PubkeyAcceptedAlgorithms allows none of \(kind.signatureAlgorithms.map(\.name).joined(separator: ", "))"))
            return false
        }
        for algorithm in algorithms {
            let offered = identity.certificate == nil ? Self.blob(blob, renamedTo: algorithm.name) : blob
            let agentDeadline = deadline
            let outcome = try await attempt(session, blob: offered, deadline: &deadline) { data in
                switch identity.signer {
                case .agent(let agentKey):
                    do {
                        let agent = SSHAgentClient(socketPath: self.settings.agentSocket ?? "")
                        return .success(try await agent.sign(data, with: agentKey, algorithm: algorithm, on: self.loop, deadline: agentDeadline))
                    } catch {
                        return .failure(Credentials.KeyUnavailable(description: "\(error)"))
                    }
                case .file(let file):
                    let key: PrivateKey
                    if let fileKey {
                        key = fileKey
                    } else {
                        switch await self.settings.credentials.privateKey(file) {
                        case .success(let loaded): key = loaded
                        case .failure(let why): return .failure(why)
                        }
                    }
                    fileKey = key
                    guard key.publicBlob == (identity.certificate?.certifiedKeyBlob ?? blob) else {
                        return .failure(Credentials.KeyUnavailable(description: "the private key does not match its public key"))
                    }
                    guard let signature = key.sign(data, algorithm: algorithm) else {
                        return .failure(Credentials.KeyUnavailable(description: "OpenSSL could not sign with \(algorithm.name)"))
                    }
                    return .success(signature)
                }
            }
            switch outcome {
            case .accepted:
                return true
            case .refused:
                report.record(identity.label, algorithm: algorithm.name, .refused)
            case .signatureRejected:
                report.record(identity.label, algorithm: algorithm.name, .signatureRejected)
                return false
            case .signerFailed(let why):
                report.record(identity.label, algorithm: algorithm.name, .notOffered(why))
                return false
            }
        }
        return false
    }

    /// The algorithms to offer `identity` with, in order, as PubkeyAcceptedAlgorithms allows.
    private func signatureAlgorithms(for identity: OfferedIdentity, kind: UserKeyKind) -> [SignatureAlgorithm] {
        if let certificate = identity.certificate {
            let digest = kind.signatureAlgorithms.first?.digest
            return settings.publicKeyAlgorithms.contains(certificate.typeName)
                ? [SignatureAlgorithm(name: certificate.typeName, digest: digest)] : []
        }
        return kind.signatureAlgorithms.filter { settings.publicKeyAlgorithms.contains($0.name) }
    }

    /// A plain key blob with its type string replaced: libssh2 names the
    /// request's algorithm after the blob's first string, and OpenSSH reads an
    /// RSA blob typed `rsa-sha2-512` as an RSA key.
    static func blob(_ blob: [UInt8], renamedTo name: String) -> [UInt8] {
        var reader = SSHBufferReader(bytes: blob)
        guard let type = reader.readString(), String(decoding: type, as: UTF8.self) != name else { return blob }
        var renamed = SSHBufferWriter()
        renamed.writeString(Array(name.utf8))
        return renamed.bytes + blob[reader.offset...]
    }

    private enum AttemptOutcome {
        case accepted, refused, signatureRejected
        case signerFailed(String)
    }

    /// One `publickey` request. libssh2 first asks whether the server would
    /// take the key; only then does its sign callback run, which answers EAGAIN
    /// until `sign` (a passphrase prompt, the agent) has produced the signature.
    /// Time spent signing does not count against the connect deadline.
    private func attempt(_ session: OpaquePointer, blob: [UInt8], deadline: inout Deadline,
                         sign: ([UInt8]) async -> Result<[UInt8], Credentials.KeyUnavailable>) async throws -> AttemptOutcome {
        // Used only on this actor; the sign closure never sees them.
        nonisolated(unsafe) let pending = UnsafeMutablePointer<tasker_deferred_signature>.allocate(capacity: 1)
        pending.initialize(to: tasker_deferred_signature())
        nonisolated(unsafe) let abstract = UnsafeMutablePointer<UnsafeMutableRawPointer?>.allocate(capacity: 1)
        abstract.initialize(to: UnsafeMutableRawPointer(pending))
        defer {
            Glibc.free(pending.pointee.request)
            Glibc.free(pending.pointee.signature)
            pending.deallocate()
            abstract.deallocate()
        }
        var signerFailure: String?
        while true {
            let before = ioGeneration
            let rc = blob.withUnsafeBufferPointer { blob in
                tasker_userauth_deferred(session, settings.user, blob.baseAddress, blob.count, abstract)
            }
            if rc != LIBSSH2_ERROR_EAGAIN {
                noteProgress(since: before)
                if rc == 0 { return .accepted }
                if let signerFailure { return .signerFailed(signerFailure) }
                if Self.isSocketError(rc) || io.pointee.peer_closed != 0 {
                    throw SSHError(.unreachable, phase: .auth, connectionLostDuringAuthentication(), code: rc)
                }
                return rc == LIBSSH2_ERROR_AUTHENTICATION_FAILED ? .refused : .signatureRejected
            }
            if let request = pending.pointee.request, pending.pointee.signature == nil, pending.pointee.failed == 0 {
                let data = [UInt8](UnsafeBufferPointer(start: request, count: pending.pointee.request_length))
                let started = Deadline.now()
                let signed = await sign(data)
                deadline = deadline.extended(bySecondsSince: started)
                switch signed {
                case .success(let signature):
                    let copy = malloc(max(1, signature.count)).assumingMemoryBound(to: UInt8.self)
                    signature.withUnsafeBufferPointer { copy.update(from: $0.baseAddress!, count: signature.count) }
                    pending.pointee.signature = copy
                    pending.pointee.signature_length = signature.count
                case .failure(let why):
                    pending.pointee.failed = 1
                    signerFailure = why.description
                }
                if Task.isCancelled { throw SSHError(.cancelled, phase: .auth, "cancelled") }
                continue
            }
            try await awaitSocket(since: before, phase: .auth, deadline: deadline, onTimeout: .unreachable, cancellable: true)
        }
    }

    private func connectionLostDuringAuthentication() -> String {
        let reason = socketFailureReason ?? lastErrorMessage(default: "connection lost")
        return "connection lost during authentication (\(reason)); a server closes the connection after MaxAuthTries refused attempts"
    }

    // MARK: Passwords

    /// keyboard-interactive, then password (OpenSSH's order), with the run's
    /// password, when the run has one and the settings allow those methods.
    private func authenticateWithPassword(_ session: OpaquePointer, report: inout AuthenticationReport,
                                          deadline: inout Deadline) async throws -> Bool {
        guard settings.passwordAuthentication || settings.keyboardInteractiveAuthentication else { return false }
        let started = Deadline.now()
        var source = settings.loginPassword.map { Result<Secret, Credentials.KeyUnavailable>.success(Secret(Array($0.utf8))) }
        if source == nil { source = await settings.credentials.loginPassword() }
        guard let source else { return false }
        deadline = deadline.extended(bySecondsSince: started)
        let password: Secret
        switch source {
        case .success(let secret): password = secret
        case .failure(let why):
            report.record("password", algorithm: nil, .notOffered(why.description))
            return false
        }
        let methods = await allowedMethods(session, deadline: deadline)
        if methods == nil, libssh2_userauth_authenticated(session) != 0 { return true }
        report.allowedMethods = methods
        let allows = { (method: String) in methods?.contains(method) ?? true }
        let secret = password.unsafeBytes
        defer { withExtendedLifetime(password) {} }
        if settings.keyboardInteractiveAuthentication, allows("keyboard-interactive") {
            io.pointee.password = secret.baseAddress
            io.pointee.password_length = secret.count
            io.pointee.kbdint_unanswered = 0
            defer {
                io.pointee.password = nil
                io.pointee.password_length = 0
            }
            let rc = try await retry(.auth, until: deadline, onTimeout: .unreachable) {
                tasker_userauth_kbdint(session, settings.user)
            }
            if rc == 0 { return true }
            if Self.isSocketError(rc) { throw SSHError(.unreachable, phase: .auth, connectionLostDuringAuthentication(), code: rc) }
            report.record("keyboard-interactive", algorithm: nil, io.pointee.kbdint_unanswered != 0
                ? .notOffered("the server asked something other than a password") : .passwordRefused)
        }
        if settings.passwordAuthentication, allows("password") {
            let rc = try await retry(.auth, until: deadline, onTimeout: .unreachable) {
                secret.withMemoryRebound(to: CChar.self) { text in
                    libssh2_userauth_password_ex(session, settings.user, UInt32(settings.user.utf8.count),
                                                 text.baseAddress, UInt32(text.count), nil)
                }
            }
            if rc == 0 { return true }
            if Self.isSocketError(rc) { throw SSHError(.unreachable, phase: .auth, connectionLostDuringAuthentication(), code: rc) }
            report.record("password", algorithm: nil, rc == LIBSSH2_ERROR_PASSWORD_EXPIRED ? .notOffered("the password has expired") : .passwordRefused)
        }
        return false
    }

    /// The methods the server allows (a `none` request); nil when it could not
    /// be asked, or when that request logged in.
    private func allowedMethods(_ session: OpaquePointer, deadline: Deadline) async -> [String]? {
        if failure != nil || io.pointee.peer_closed != 0 { return nil }
        while true {
            let before = ioGeneration
            let user = settings.user
            if let list = libssh2_userauth_list(session, user, UInt32(user.utf8.count)) {
                noteProgress(since: before)
                return String(cString: list).split(separator: ",").map(String.init)
            }
            guard lastErrno() == LIBSSH2_ERROR_EAGAIN else {
                noteProgress(since: before)
                return nil
            }
            do {
                try await awaitSocket(since: before, phase: .auth, deadline: deadline, onTimeout: .unreachable, cancellable: true)
            } catch {
                return nil
            }
        }
    }
}

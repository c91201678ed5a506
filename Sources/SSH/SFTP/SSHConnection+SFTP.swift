import CLibSSH2
import Platform

/// A refusal from the SFTP server, e.g. `permission denied: /etc/app.conf`.
public struct SFTPError: Error, Sendable, CustomStringConvertible {
    /// The server's SFTP status code (`LIBSSH2_FX_*`).
    public var status: UInt
    public var path: String

    public init(status: UInt, path: String) {
        self.status = status
        self.path = path
    }

    public static func noSuchFile(_ path: String) -> SFTPError {
        SFTPError(status: UInt(LIBSSH2_FX_NO_SUCH_FILE), path: path)
    }

    public var isNoSuchFile: Bool {
        status == UInt(LIBSSH2_FX_NO_SUCH_FILE) || status == UInt(LIBSSH2_FX_NO_SUCH_PATH)
    }

    /// A generic failure: OpenSSH's server reports most errno values (ENOSPC among them) this way.
    public var isGenericFailure: Bool { status == UInt(LIBSSH2_FX_FAILURE) }

    public var description: String { "\(SFTPStatus.describe(status)): \(path)" }
}

/// SFTP on a pooled connection, non-blocking on its loop. An open
/// `SFTPSession` counts as one of the connection's channels and as a user of
/// the connection: close it (`closeSFTP`) before the connection can close.
extension SSHConnection {
    /// Starts the `sftp` subsystem on a new channel.
    public func openSFTP(deadline: Deadline) async throws -> SFTPSession {
        try beginUse()
        do {
            try await acquire(.channel, phase: .sftp, deadline: deadline, cancellable: true)
            do {
                return try await startSFTP(deadline: deadline)
            } catch {
                release(.channel)
                throw error
            }
        } catch {
            endUse()
            throw error
        }
    }

    private func startSFTP(deadline: Deadline) async throws -> SFTPSession {
        guard let session else { throw SSHError(.connectionLost, phase: .sftp, "connection closed") }
        try await acquire(.open, phase: .sftp, deadline: deadline, cancellable: true)
        defer { release(.open) }
        while true {
            let before = ioGeneration
            if let sftp = libssh2_sftp_init(session) {
                noteProgress(since: before)
                return SFTPSession(handle: sftp, owner: ObjectIdentifier(self))
            }
            let code = lastErrno()
            if code == LIBSSH2_ERROR_EAGAIN {
                try await awaitSocket(since: before, phase: .sftp, deadline: deadline, onTimeout: .timeout, cancellable: true)
                continue
            }
            noteProgress(since: before)
            if code == LIBSSH2_ERROR_CHANNEL_FAILURE {
                throw SSHError(.other, phase: .sftp, "the server offers no sftp subsystem (sshd_config: Subsystem sftp …)", code: code)
            }
            throw sftpFailure(code, nil, path: "", fallback: "the server refused the sftp subsystem")
        }
    }

    /// Ends the SFTP session and frees its channel slot; never cancelled, bounded by a short deadline.
    public func closeSFTP(_ sftp: SFTPSession) async {
        guard ownsSession(sftp) else { return assertionFailure("closeSFTP: an SFTP session of another connection") }
        guard !sftp.isClosed else { return }
        sftp.isClosed = true
        _ = try? await retry(.close, until: .after(seconds: 2), onTimeout: .other, cancellable: false) {
            libssh2_sftp_shutdown(sftp.handle)
        }
        release(.channel)
        endUse()
    }

    /// The attributes of `path` (following symlinks), or nil when it does not exist.
    public func sftpStat(_ sftp: SFTPSession, _ path: String, deadline: Deadline) async throws -> SFTPAttributes? {
        var attributes = LIBSSH2_SFTP_ATTRIBUTES()
        do {
            _ = try await sftpCall(sftp, path: path, deadline: deadline) {
                Int(libssh2_sftp_stat_ex(sftp.handle, path, UInt32(path.utf8.count), LIBSSH2_SFTP_STAT, &attributes))
            }
        } catch let error as SFTPError where error.isNoSuchFile {
            return nil
        }
        return SFTPAttributes(attributes)
    }

    public func sftpMakeDirectory(_ sftp: SFTPSession, _ path: String, mode: UInt32, deadline: Deadline) async throws {
        _ = try await sftpCall(sftp, path: path, deadline: deadline) {
            Int(libssh2_sftp_mkdir_ex(sftp.handle, path, UInt32(path.utf8.count), Int(mode)))
        }
    }

    /// Removes a file. With `cancellable: false` (cleaning up after a failure or
    /// a cancelled run) it runs to completion, bounded by `deadline`.
    public func sftpRemove(_ sftp: SFTPSession, _ path: String, deadline: Deadline, cancellable: Bool = true) async throws {
        _ = try await sftpCall(sftp, path: path, deadline: deadline, cancellable: cancellable) {
            Int(libssh2_sftp_unlink_ex(sftp.handle, path, UInt32(path.utf8.count)))
        }
    }

    public enum SFTPOpenMode: Sendable {
        case read
        /// Create a new file; fail if it exists.
        case createExclusive
    }

    public func sftpOpen(_ sftp: SFTPSession, _ path: String, _ openMode: SFTPOpenMode, permissions: UInt32 = 0o600,
                         deadline: Deadline) async throws -> SFTPFile {
        let flags: UInt = switch openMode {
        case .read: UInt(LIBSSH2_FXF_READ)
        case .createExclusive: UInt(LIBSSH2_FXF_WRITE | LIBSSH2_FXF_CREAT | LIBSSH2_FXF_EXCL)
        }
        return try await sftpOpenHandle(sftp, path, flags: flags, permissions: permissions, type: LIBSSH2_SFTP_OPENFILE, deadline: deadline)
    }

    /// The entries of a remote directory (without `.` and `..`), with their attributes.
    public func sftpList(_ sftp: SFTPSession, _ path: String, deadline: Deadline) async throws -> [(name: String, attributes: SFTPAttributes)] {
        let directory = try await sftpOpenHandle(sftp, path, flags: 0, permissions: 0, type: LIBSSH2_SFTP_OPENDIR, deadline: deadline)
        var entries: [(name: String, attributes: SFTPAttributes)] = []
        do {
            var name = [CChar](repeating: 0, count: 4096)
            while true {
                var attributes = LIBSSH2_SFTP_ATTRIBUTES()
                let length = try await sftpCall(sftp, path: path, deadline: deadline) {
                    Int(libssh2_sftp_readdir_ex(directory.handle, &name, name.count, nil, 0, &attributes))
                }
                if length == 0 { break }
                let entry = String(decoding: name.prefix(length).map(UInt8.init(bitPattern:)), as: UTF8.self)
                if entry != ".", entry != ".." { entries.append((entry, SFTPAttributes(attributes))) }
            }
        } catch {
            try? await sftpClose(directory)
            throw error
        }
        try await sftpClose(directory, deadline: deadline)
        return entries.sorted { $0.name < $1.name }
    }

    private func sftpOpenHandle(_ sftp: SFTPSession, _ path: String, flags: UInt, permissions: UInt32, type: Int32,
                                deadline: Deadline) async throws -> SFTPFile {
        try checkOwner(sftp)
        try beginUse()
        defer { endUse() }
        while true {
            guard !sftp.isClosed else { throw SSHError(.connectionLost, phase: .sftp, "SFTP session closed") }
            let before = ioGeneration
            if let handle = libssh2_sftp_open_ex(sftp.handle, path, UInt32(path.utf8.count), flags, Int(permissions), type) {
                noteProgress(since: before)
                return SFTPFile(handle: handle, session: sftp, path: path)
            }
            let code = lastErrno()
            if code == LIBSSH2_ERROR_EAGAIN {
                try await awaitSocket(since: before, phase: .sftp, deadline: deadline, onTimeout: .timeout, cancellable: true)
                continue
            }
            noteProgress(since: before)
            throw sftpFailure(code, sftp, path: path, fallback: "cannot open")
        }
    }

    /// Bytes handed to libssh2 per write call: it copies them into write
    /// requests that are all in flight at once, so this bounds both the memory
    /// each open file holds and how much is in flight per round trip.
    static let sftpWriteWindow = 256 << 10

    /// Writes all of `bytes` at the file's current offset. libssh2 sends each
    /// window as several write requests at once and returns as the first are
    /// acknowledged, so the link stays busy.
    public func sftpWrite(_ file: SFTPFile, _ bytes: [UInt8], deadline: Deadline) async throws {
        var offset = 0
        while offset < bytes.count {
            let start = offset
            let count = min(bytes.count - start, Self.sftpWriteWindow)
            let written = try await sftpCall(file.session, path: file.path, deadline: deadline) {
                bytes.withUnsafeBytes { raw in
                    raw.baseAddress!.advanced(by: start).withMemoryRebound(to: CChar.self, capacity: count) {
                        libssh2_sftp_write(file.handle, $0, count)
                    }
                }
            }
            offset += written
        }
    }

    /// Up to `count` bytes from the file's current offset; empty at end of file.
    public func sftpRead(_ file: SFTPFile, upTo count: Int, deadline: Deadline) async throws -> [UInt8] {
        var bytes = [UInt8](repeating: 0, count: count)
        let read = try await sftpCall(file.session, path: file.path, deadline: deadline) {
            bytes.withUnsafeMutableBytes { raw in
                libssh2_sftp_read(file.handle, raw.baseAddress!.assumingMemoryBound(to: CChar.self), raw.count)
            }
        }
        bytes.removeLast(count - read)
        return bytes
    }

    /// Sets permission bits and, when given, access and modification times.
    public func sftpSetAttributes(_ file: SFTPFile, permissions: UInt32?, modificationTime: UInt64?,
                                  deadline: Deadline) async throws {
        var attributes = LIBSSH2_SFTP_ATTRIBUTES()
        if let permissions {
            attributes.flags |= UInt(LIBSSH2_SFTP_ATTR_PERMISSIONS)
            attributes.permissions = UInt(permissions)
        }
        if let modificationTime {
            attributes.flags |= UInt(LIBSSH2_SFTP_ATTR_ACMODTIME)
            attributes.mtime = UInt(modificationTime)
            attributes.atime = UInt(modificationTime)
        }
        guard attributes.flags != 0 else { return }
        _ = try await sftpCall(file.session, path: file.path, deadline: deadline) {
            Int(libssh2_sftp_fstat_ex(file.handle, &attributes, 1))
        }
    }

    /// Closes a remote file; never cancelled (a half-closed handle would hold the
    /// server's file open), bounded by a short deadline unless `deadline` is given.
    public func sftpClose(_ file: SFTPFile, deadline: Deadline = .after(seconds: 5)) async throws {
        try checkOwner(file.session)
        guard !file.isClosed else { return }
        file.isClosed = true
        _ = try await sftpCall(file.session, path: file.path, deadline: deadline, cancellable: false) {
            Int(libssh2_sftp_close_handle(file.handle))
        }
    }

    /// Bytes available to the remote user on the file system holding `path`
    /// (`statvfs@openssh.com`); nil when the server cannot say.
    public func sftpAvailableBytes(_ sftp: SFTPSession, _ path: String, deadline: Deadline) async -> UInt64? {
        var info = LIBSSH2_SFTP_STATVFS()
        let result = try? await sftpCall(sftp, path: path, deadline: deadline, cancellable: false) {
            Int(libssh2_sftp_statvfs(sftp.handle, path, path.utf8.count, &info))
        }
        guard result != nil else { return nil }
        return info.f_bavail * info.f_frsize
    }

    private func ownsSession(_ sftp: SFTPSession) -> Bool {
        sftp.owner == ObjectIdentifier(self)
    }

    /// A session (or a file of one) opened on another connection would drive that connection's
    /// libssh2 session from this loop: refused before any libssh2 call.
    private func checkOwner(_ sftp: SFTPSession) throws {
        guard ownsSession(sftp) else { throw SSHError(.other, phase: .sftp, "the SFTP session belongs to another connection") }
    }

    /// Repeats a non-blocking SFTP call until it stops answering EAGAIN; a
    /// negative answer becomes an `SFTPError` (the server refused) or an `SSHError`.
    private func sftpCall(_ sftp: SFTPSession, path: String, deadline: Deadline, cancellable: Bool = true,
                          _ call: () -> Int) async throws -> Int {
        try checkOwner(sftp)
        try beginUse()
        defer { endUse() }
        while true {
            guard !sftp.isClosed else { throw SSHError(.connectionLost, phase: .sftp, "SFTP session closed") }
            let before = ioGeneration
            let rc = call()
            if rc != Int(LIBSSH2_ERROR_EAGAIN) {
                noteProgress(since: before)
                if rc < 0 { throw sftpFailure(Int32(rc), sftp, path: path, fallback: "SFTP request failed") }
                return rc
            }
            try await awaitSocket(since: before, phase: .sftp, deadline: deadline, onTimeout: .timeout, cancellable: cancellable)
        }
    }

    private func sftpFailure(_ code: Int32, _ sftp: SFTPSession?, path: String, fallback: String) -> Error {
        if let failure { return failure }
        if code == LIBSSH2_ERROR_SFTP_PROTOCOL, let sftp {
            return SFTPError(status: libssh2_sftp_last_error(sftp.handle), path: path)
        }
        if Self.isSocketError(code) {
            let error = SSHError(.connectionLost, phase: .sftp, socketFailureReason ?? lastErrorMessage(default: fallback), code: code)
            fail(error)
            return error
        }
        return SSHError(.other, phase: .sftp, lastErrorMessage(default: fallback) + (path.isEmpty ? "" : ": \(path)"), code: code)
    }
}

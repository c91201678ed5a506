import CLibSSH2

/// An SFTP session: the `sftp` subsystem on a channel of its own of one
/// connection, holding one of its channel slots until closed. Used only
/// through the methods of the connection that opened it (`SSHConnection+SFTP`),
/// which run on that connection's loop and refuse a session of another one.
/// (Sendable so a caller can hold it across awaits; its state is touched only there.)
public final class SFTPSession: @unchecked Sendable {
    let handle: OpaquePointer
    /// The connection that opened it: its libssh2 session is the only one this handle may drive.
    let owner: ObjectIdentifier
    /// Set once closed; every later use fails.
    var isClosed = false

    init(handle: OpaquePointer, owner: ObjectIdentifier) {
        self.handle = handle
        self.owner = owner
    }
}

/// An open remote file of an SFTP session.
public final class SFTPFile: @unchecked Sendable {
    let handle: OpaquePointer
    let session: SFTPSession
    public let path: String
    var isClosed = false

    init(handle: OpaquePointer, session: SFTPSession, path: String) {
        self.handle = handle
        self.session = session
        self.path = path
    }
}

/// What SFTP reports about a remote file.
public struct SFTPAttributes: Sendable, Equatable {
    public var size: UInt64?
    /// Permission and file-type bits, as `st_mode`.
    public var mode: UInt32?
    public var modificationTime: UInt64?

    public var isDirectory: Bool { mode.map { $0 & 0o170000 == 0o040000 } ?? false }

    init(_ raw: LIBSSH2_SFTP_ATTRIBUTES) {
        let flags = raw.flags
        size = flags & UInt(LIBSSH2_SFTP_ATTR_SIZE) != 0 ? raw.filesize : nil
        mode = flags & UInt(LIBSSH2_SFTP_ATTR_PERMISSIONS) != 0 ? UInt32(raw.permissions) : nil
        modificationTime = flags & UInt(LIBSSH2_SFTP_ATTR_ACMODTIME) != 0 ? UInt64(raw.mtime) : nil
    }
}

/// An SFTP server's status codes, in words (SFTP v3 plus the later ones OpenSSH never sends).
enum SFTPStatus {
    static func describe(_ code: UInt) -> String {
        switch code {
        case UInt(LIBSSH2_FX_EOF): return "end of file"
        case UInt(LIBSSH2_FX_NO_SUCH_FILE), UInt(LIBSSH2_FX_NO_SUCH_PATH): return "no such file or directory"
        case UInt(LIBSSH2_FX_PERMISSION_DENIED), UInt(LIBSSH2_FX_WRITE_PROTECT): return "permission denied"
        case UInt(LIBSSH2_FX_NO_SPACE_ON_FILESYSTEM): return "no space left on device"
        case UInt(LIBSSH2_FX_QUOTA_EXCEEDED): return "disk quota exceeded"
        case UInt(LIBSSH2_FX_FILE_ALREADY_EXISTS): return "file exists"
        case UInt(LIBSSH2_FX_NOT_A_DIRECTORY): return "not a directory"
        case UInt(LIBSSH2_FX_OP_UNSUPPORTED): return "operation not supported by the server"
        default: return "failure (SFTP status \(code))"
        }
    }
}

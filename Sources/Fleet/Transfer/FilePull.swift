import Foundation
import Glibc
import Platform
import SSH

/// What `tasker pull` fetches, and where it puts it.
public struct PullRequest: Sendable {
    /// Remote files or directories; `{host}` and `{address}` are replaced per host.
    public var sources: [String]
    /// The local directory: `DIR/<host>/…`, or where a `{host}` template says.
    public var destination: String
    public var recursive = false
    /// Keep the remote modification times.
    public var preserveTimes = false
    /// Seconds one host's transfer may take; nil for no limit.
    public var timeout: Double?

    public init(sources: [String], destination: String) {
        self.sources = sources
        self.destination = destination
    }

    /// The local directory `spec`'s files go to.
    func localDirectory(for spec: ConnectionSpec) -> String {
        PushRequest.isPerHost(destination) ? PushRequest.expand(destination, for: spec)
            : (destination.hasSuffix("/") ? destination : destination + "/") + spec.name
    }
}

/// Fetches files from hosts over SFTP, streamed to local disk through a
/// bounded buffer, each file written to a temporary name and renamed into
/// place when complete; a host's missing file fails that host only.
public final class FilePull: HostJob {
    public let request: PullRequest
    /// Bytes asked of libssh2 per read: it keeps that much in read-ahead requests per file.
    static let chunkSize = 256 << 10

    public init(_ request: PullRequest) {
        self.request = request
    }

    /// The name a pulled file or tree gets locally: the remote path's last component.
    static func name(of remote: String) -> String {
        ((remote.count > 1 && remote.hasSuffix("/") ? String(remote.dropLast()) : remote) as NSString).lastPathComponent
    }

    /// One host's pull.
    public func run(on spec: ConnectionSpec, pool: ConnectionPool, options: FleetRunOptions,
                    runDeadline: Deadline, expired: RunDeadlineFlag) async -> HostRecord {
        let started = Deadline.now()
        var result = HostRecord(starting: spec)
        let deadline = min(Deadline.after(seconds: request.timeout), runDeadline)
        do {
            try await HostEvents(spec, options).withConnection(pool, for: spec, since: started) { connection, connectMilliseconds in
                result.connectMilliseconds = connectMilliseconds
                let sftp = try await connection.openSFTP(deadline: deadline)
                var download = LocalDownload(connection: connection, sftp: sftp, deadline: deadline,
                                             preserveTimes: request.preserveTimes)
                download.progress = TransferProgressEvents(spec, options)
                var staging: RemoteTemporaryDirectory?
                do {
                    var sources = request.sources.map { PushRequest.expand($0, for: spec) }
                    if let become = spec.become {
                        // What only the become user may read is copied where the login user can fetch it.
                        staging = try await RemoteTemporaryDirectory.copies(of: sources, recursive: request.recursive, on: connection, for: become,
                                                                 loginUser: spec.settings.user, deadline: deadline)
                        sources = sources.map { staging!.path + "/" + Self.name(of: $0) }
                    }
                    let base = request.localDirectory(for: spec)
                    for source in sources {
                        try await download.fetch(source, into: base, recursive: request.recursive)
                    }
                    result.bytesTransferred = download.bytes
                } catch {
                    download.removeTemporaries()
                    await staging?.remove(on: connection)
                    await connection.closeSFTP(sftp)
                    throw error
                }
                await staging?.remove(on: connection)
                await connection.closeSFTP(sftp)
            }
        } catch {
            result.fail(error, expired: expired,
                        timedOut: request.timeout.map { "transfer timed out after \($0)s; partial files removed" })
        }
        result.runMilliseconds = Deadline.milliseconds(since: started)
        return result
    }
}

/// One host's downloads into a local directory.
private struct LocalDownload {
    let connection: SSHConnection
    let sftp: SFTPSession
    let deadline: Deadline
    let preserveTimes: Bool
    var progress: TransferProgressEvents?
    var bytes: UInt64 = 0
    /// Local temporary files not yet renamed into place.
    private var temporaries: [String] = []

    init(connection: SSHConnection, sftp: SFTPSession, deadline: Deadline, preserveTimes: Bool) {
        self.connection = connection
        self.sftp = sftp
        self.deadline = deadline
        self.preserveTimes = preserveTimes
    }

    /// Fetches `remote` (a file, or with `recursive` a tree) into `directory`, under its own name.
    mutating func fetch(_ remote: String, into directory: String, recursive: Bool) async throws {
        guard let attributes = try await connection.sftpStat(sftp, remote, deadline: deadline) else {
            throw SFTPError.noSuchFile(remote)
        }
        let trimmed = remote.count > 1 && remote.hasSuffix("/") ? String(remote.dropLast()) : remote
        let name = FilePull.name(of: remote)
        try Self.makeDirectory(directory)
        if attributes.isDirectory {
            guard recursive else { throw FileTransferFailure(description: "\(remote) is a directory (use -r to pull a tree)") }
            try await fetchTree(trimmed, to: directory + "/" + name)
        } else {
            try await fetchFile(trimmed, attributes: attributes, to: directory + "/" + name)
        }
    }

    private mutating func fetchTree(_ remote: String, to local: String) async throws {
        try Self.makeDirectory(local)
        for (name, attributes) in try await connection.sftpList(sftp, remote, deadline: deadline) {
            if attributes.isDirectory {
                try await fetchTree(remote + "/" + name, to: local + "/" + name)
            } else if let mode = attributes.mode, mode & 0o170000 == 0o100000 {
                try await fetchFile(remote + "/" + name, attributes: attributes, to: local + "/" + name)
            }
        }
    }

    private mutating func fetchFile(_ remote: String, attributes: SFTPAttributes, to local: String) async throws {
        let temporary = HostTransfer.parent(of: local) + "/." + (local as NSString).lastPathComponent
            + ".tasker-" + String(UInt32.random(in: 0...UInt32.max), radix: 16)
        let fd = open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw FileTransferFailure(description: "cannot write \(temporary): \(String(cString: strerror(errno)).lowercased())") }
        temporaries.append(temporary)
        defer { close(fd) }
        let file = try await connection.sftpOpen(sftp, remote, .read, deadline: deadline)
        do {
            while true {
                let chunk = try await connection.sftpRead(file, upTo: FilePull.chunkSize, deadline: deadline)
                if chunk.isEmpty { break }
                try Self.writeAll(chunk, to: fd, path: temporary)
                bytes += UInt64(chunk.count)
                progress?.update(bytes: bytes)
            }
            try await connection.sftpClose(file, deadline: deadline)
        } catch {
            try? await connection.sftpClose(file)
            throw error
        }
        if let mode = attributes.mode { fchmod(fd, mode_t(mode & 0o7777)) }
        if preserveTimes, let modified = attributes.modificationTime {
            var times = [timespec(tv_sec: Int(modified), tv_nsec: 0), timespec(tv_sec: Int(modified), tv_nsec: 0)]
            futimens(fd, &times)
        }
        guard rename(temporary, local) == 0 else {
            throw FileTransferFailure(description: "cannot put \(local) in place: \(String(cString: strerror(errno)).lowercased())")
        }
        temporaries.removeAll { $0 == temporary }
    }

    func removeTemporaries() {
        for path in temporaries { unlink(path) }
    }

    private static func writeAll(_ bytes: [UInt8], to fd: Int32, path: String) throws {
        var offset = 0
        while offset < bytes.count {
            let n = bytes.withUnsafeBytes { write(fd, $0.baseAddress! + offset, $0.count - offset) }
            if n < 0, errno == EINTR { continue }
            guard n > 0 else { throw FileTransferFailure(description: "cannot write \(path): \(String(cString: strerror(errno)).lowercased())") }
            offset += n
        }
    }

    private static func makeDirectory(_ path: String) throws {
        do {
            try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        } catch {
            throw FileTransferFailure(description: "cannot create \(path): \(error.localizedDescription)")
        }
    }
}

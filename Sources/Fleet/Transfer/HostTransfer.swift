import Foundation
import SSH

/// A file operation a host refused or that failed on the controller, in one line
/// (`not a directory: /etc/app`, `cannot put the files in place: …`).
struct FileTransferFailure: Error, CustomStringConvertible {
    var description: String
}

/// One host's side of a push: its SFTP session and the temporary files
/// written so far, which `abandon` removes (also when the run is cancelled).
final class HostTransfer {

    struct Outcome {
        var bytes: UInt64 = 0
        var unchanged = false
        var commandsRun = 0
    }

    let connection: SSHConnection
    let sftp: SFTPSession
    let deadline: Deadline
    /// Written, not yet renamed into place.
    private var temporaries: [String] = []
    private var knownDirectories: Set<String> = []

    private init(connection: SSHConnection, sftp: SFTPSession, deadline: Deadline) {
        self.connection = connection
        self.sftp = sftp
        self.deadline = deadline
    }

    static func start(on connection: SSHConnection, deadline: Deadline) async throws -> HostTransfer {
        HostTransfer(connection: connection, sftp: try await connection.openSFTP(deadline: deadline), deadline: deadline)
    }

    func finish() async {
        await connection.closeSFTP(sftp)
    }

    /// Removes the temporary files left and closes the session; never cancelled.
    func abandon() async {
        for path in temporaries {
            try? await connection.sftpRemove(sftp, path, deadline: .after(seconds: 5), cancellable: false)
        }
        temporaries.removeAll()
        await connection.closeSFTP(sftp)
    }

    /// Sends `sources` (one list of entries per source, in order) to the request's
    /// destination: as `cp -r` does, into the destination when it is a directory
    /// (or ends in `/`, or there are several sources), else as the destination.
    func push(_ sources: [[LocalEntry]], request: PushRequest, spec: ConnectionSpec, readers: SharedFileReaders,
              checksums: LocalChecksums) async throws -> Outcome {
        var destination = PushRequest.expand(request.destination, for: spec)
        var intoDirectory = destination.hasSuffix("/") || sources.count > 1
        if !intoDirectory { intoDirectory = try await connection.sftpStat(sftp, destination, deadline: deadline)?.isDirectory == true }
        if destination.count > 1, destination.hasSuffix("/") { destination.removeLast() }
        var planned: [(entry: LocalEntry, remote: String, perHostSource: Bool)] = []
        for (index, entries) in sources.enumerated() {
            for entry in entries {
                let remote: String
                if intoDirectory {
                    remote = (destination == "/" ? "" : destination) + "/" + entry.relativePath
                } else {
                    remote = destination + entry.relativePath.drop { $0 != "/" }
                }
                planned.append((entry, remote, PushRequest.isPerHost(request.sources[index])))
            }
        }
        if intoDirectory { try await ensureDirectory(destination, mode: 0o755) }
        var outcome = Outcome()
        let files = planned.filter { if case .file = $0.entry.kind { return true } else { return false } }
        let unchanged = try await unchangedFiles(files.map { ($0.entry, $0.remote) }, check: request.skipCheck,
                                                 checksums: checksums, outcome: &outcome)
        var moves: [(temporary: String, final: String)] = []
        for item in planned {
            switch item.entry.kind {
            case .directory:
                try await ensureDirectory(item.remote, mode: item.entry.mode)
            case .file:
                guard !unchanged.contains(item.remote) else { continue }
                try await ensureDirectory(Self.parent(of: item.remote), mode: 0o755)
                let reader = item.perHostSource ? try SharedFileReader(path: item.entry.localPath)
                    : try readers.reader(for: item.entry.localPath)
                let temporary = try await write(reader, to: item.remote, entry: item.entry, request: request, outcome: &outcome)
                moves.append((temporary, item.remote))
            }
        }
        outcome.unchanged = !files.isEmpty && moves.isEmpty
        if !moves.isEmpty {
            try await rename(moves, owner: request.owner, group: request.group)
            outcome.commandsRun += 1
        }
        return outcome
    }

    /// The remote paths that already hold their file, by the request's check.
    private func unchangedFiles(_ files: [(entry: LocalEntry, remote: String)], check: PushRequest.SkipCheck,
                                checksums: LocalChecksums, outcome: inout Outcome) async throws -> Set<String> {
        switch check {
        case .none:
            return []
        case .sizeAndTime:
            var same: Set<String> = []
            for (entry, remote) in files {
                guard case .file(let size) = entry.kind,
                      let attributes = try await connection.sftpStat(sftp, remote, deadline: deadline) else { continue }
                if attributes.size == size, attributes.modificationTime == entry.modificationTime { same.insert(remote) }
            }
            return same
        case .checksum:
            guard !files.isEmpty else { return [] }
            let command = "sha256sum -- " + ShellWords.join(files.map(\.remote)) + " 2>/dev/null; true"
            let output = try await run(command)
            outcome.commandsRun += 1
            var remoteSums: [String: String] = [:]
            for line in output.split(separator: "\n") where line.count > 66 && !line.hasPrefix("\\") {
                remoteSums[String(line.dropFirst(66))] = String(line.prefix(64))
            }
            var same: Set<String> = []
            for (entry, remote) in files {
                if let sum = remoteSums[remote], sum == (try await checksums.sha256(of: entry.localPath)) { same.insert(remote) }
            }
            return same
        }
    }

    /// Writes one file to a temporary name beside `remote`; returns that name.
    private func write(_ reader: SharedFileReader, to remote: String, entry: LocalEntry, request: PushRequest,
                       outcome: inout Outcome) async throws -> String {
        let temporary = Self.parent(of: remote) + "/." + (remote as NSString).lastPathComponent
            + ".tasker-" + String(UInt32.random(in: 0...UInt32.max), radix: 16)
        let file: SFTPFile
        do {
            file = try await connection.sftpOpen(sftp, temporary, .createExclusive, permissions: 0o600, deadline: deadline)
        } catch let error as SFTPError {
            throw SFTPError(status: error.status, path: remote)
        }
        temporaries.append(temporary)
        do {
            for index in 0..<(await reader.chunkCount) {
                let chunk = try await reader.chunk(index)
                try await connection.sftpWrite(file, chunk, deadline: deadline)
                outcome.bytes += UInt64(chunk.count)
            }
            try await connection.sftpSetAttributes(file, permissions: request.mode ?? entry.mode,
                                                   modificationTime: request.preserveTimes ? entry.modificationTime : nil,
                                                   deadline: deadline)
            try await connection.sftpClose(file, deadline: deadline)
        } catch let error as SFTPError where error.isGenericFailure {
            try? await connection.sftpClose(file)
            // OpenSSH's server reports a full disk as a bare failure: ask the file system.
            if let available = await connection.sftpAvailableBytes(sftp, Self.parent(of: remote), deadline: .after(seconds: 5)),
               available < UInt64(SharedFileReader.chunkSize) {
                throw FileTransferFailure(description: "no space left on device: \(remote)")
            }
            throw SFTPError(status: error.status, path: remote)
        } catch let error as SFTPError {
            try? await connection.sftpClose(file)
            throw SFTPError(status: error.status, path: remote)
        } catch {
            try? await connection.sftpClose(file)
            throw error
        }
        return temporary
    }

    /// Renames every temporary file over its destination in one command (after
    /// `chown` when asked), so the host's files change together at the end.
    private func rename(_ moves: [(temporary: String, final: String)], owner: String?, group: String?) async throws {
        var lines = ["set -e"]
        if owner != nil || group != nil {
            let who = (owner ?? "") + (group.map { ":" + $0 } ?? "")
            lines.append("chown -- " + ShellWords.join([who] + moves.map(\.temporary)))
        }
        for move in moves { lines.append("mv -f -- " + ShellWords.join([move.temporary, move.final])) }
        _ = try await run(lines.joined(separator: "\n"), failure: "cannot put the files in place")
        temporaries.removeAll { path in moves.contains { $0.temporary == path } }
    }

    /// Runs a shell command on the host; returns its stdout. A non-zero exit
    /// with `failure` set is an error carrying the command's stderr.
    private func run(_ command: String, failure: String? = nil) async throws -> String {
        let capture = try OutputCapture(label: "", options: CaptureOptions(headBytes: 4 << 20, tailBytes: 0))
        let exit = try await connection.execute(command, output: capture, deadline: deadline)
        let (stdout, stderr) = capture.finish()
        if let failure, exit.exitCode != 0 || exit.signal != nil {
            let reason = stderr.text.split(separator: "\n").last.map(String.init) ?? "exit status \(exit.exitCode ?? -1)"
            throw FileTransferFailure(description: "\(failure): \(reason)")
        }
        return stdout.text
    }

    /// Creates `path` and its missing parents, as `mkdir -p`; an existing directory is left as it is.
    private func ensureDirectory(_ path: String, mode: UInt32) async throws {
        guard !path.isEmpty, path != "/", path != ".", !knownDirectories.contains(path) else { return }
        if let attributes = try await connection.sftpStat(sftp, path, deadline: deadline) {
            guard attributes.isDirectory else { throw FileTransferFailure(description: "not a directory: \(path)") }
            knownDirectories.insert(path)
            return
        }
        try await ensureDirectory(Self.parent(of: path), mode: 0o755)
        do {
            try await connection.sftpMakeDirectory(sftp, path, mode: mode, deadline: deadline)
        } catch let error as SFTPError {
            // Created meanwhile by someone else: fine if it is a directory now.
            guard try await connection.sftpStat(sftp, path, deadline: deadline)?.isDirectory == true else { throw error }
        }
        knownDirectories.insert(path)
    }

    static func parent(of path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return "." }
        return slash == path.startIndex ? "/" : String(path[..<slash])
    }
}

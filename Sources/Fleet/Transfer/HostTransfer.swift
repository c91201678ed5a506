import Foundation
import Platform
import SSH
import TextFormats

/// A file operation a host refused or that failed on the controller, in one line
/// (`not a directory: /etc/app`, `cannot put the files in place: …`).
struct FileTransferFailure: Error, CustomStringConvertible {
    var description: String
}

/// One host's side of a push: its SFTP session and the temporary files
/// written so far, which `abandon` removes (also when the run is cancelled).
///
/// Through become, the login user's SFTP session may not reach the
/// destination: files are written to a private staging directory instead,
/// and one script run as the become user makes the directories, copies the
/// files beside their destinations and renames them into place.
final class HostTransfer {

    struct Outcome {
        var bytes: UInt64 = 0
        var unchanged = false
        var commandsRun = 0
    }

    let connection: SSHConnection
    let sftp: SFTPSession
    let deadline: Deadline
    let become: Become?
    /// Told the bytes written so far as chunks go out.
    var progress: TransferProgressEvents?
    /// Written, not yet renamed into place.
    private var temporaries: [String] = []
    private var knownDirectories: Set<String> = []
    /// Through become: the staging directory, and the directories to make, parents first.
    private var staging: RemoteTemporaryDirectory?
    private var directoriesToMake: [(path: String, mode: UInt32)] = []
    /// Through become: each staged file's final permission bits.
    private var finalModes: [String: UInt32] = [:]

    private init(connection: SSHConnection, sftp: SFTPSession, deadline: Deadline, become: Become?) {
        self.connection = connection
        self.sftp = sftp
        self.deadline = deadline
        self.become = become
    }

    static func start(on connection: SSHConnection, become: Become?, deadline: Deadline) async throws -> HostTransfer {
        HostTransfer(connection: connection, sftp: try await connection.openSFTP(deadline: deadline), deadline: deadline, become: become)
    }

    func finish() async {
        await staging?.remove(on: connection)
        await connection.closeSFTP(sftp)
    }

    /// Removes the temporary files left and closes the session; never cancelled.
    func abandon() async {
        for path in temporaries {
            try? await connection.sftpRemove(sftp, path, deadline: .after(seconds: 5), cancellable: false)
        }
        temporaries.removeAll()
        await staging?.remove(on: connection)
        await connection.closeSFTP(sftp)
    }

    /// Sends `sources` (one list of entries per source, in order) to the request's
    /// destination: as `cp -r` does, into the destination when it is a directory
    /// (or ends in `/`, or there are several sources), else as the destination.
    func push(_ sources: [[LocalEntry]], request: PushRequest, spec: ConnectionSpec, readers: SharedFileReaders,
              checksums: LocalChecksums) async throws -> Outcome {
        var destination = PushRequest.expand(request.destination, for: spec)
        var intoDirectory = destination.hasSuffix("/") || sources.count > 1
        if !intoDirectory { intoDirectory = try await isDirectory(destination) }
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
            try await rename(moves, request: request)
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
        case .sizeAndTime where become != nil:
            guard !files.isEmpty else { return [] }
            let command = "stat -L -c '%s %Y %n' -- " + ShellWords.join(files.map(\.remote)) + " 2>/dev/null; true"
            let output = try await run(command)
            outcome.commandsRun += 1
            var remoteSizeAndTime: [String: String] = [:]
            for line in output.split(separator: "\n") {
                let fields = line.split(separator: " ", maxSplits: 2)
                if fields.count == 3 { remoteSizeAndTime[String(fields[2])] = fields[0] + " " + fields[1] }
            }
            return Set(files.filter { entry, remote in
                guard case .file(let size) = entry.kind else { return false }
                return remoteSizeAndTime[remote] == "\(size) \(entry.modificationTime)"
            }.map(\.remote))
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

    /// Writes one file to a temporary name beside `remote` (through become, in
    /// the staging directory); returns that name.
    private func write(_ reader: SharedFileReader, to remote: String, entry: LocalEntry, request: PushRequest,
                       outcome: inout Outcome) async throws -> String {
        let temporary: String
        if let become {
            if staging == nil {
                staging = try await RemoteTemporaryDirectory.make(on: connection, prefix: "tasker-stage",
                                                                  shared: RemoteTemporaryDirectory.isShared(become), deadline: deadline)
            }
            temporary = staging!.nextPath()
        } else {
            temporary = Self.temporaryName(beside: remote)
        }
        // Listed for removal before the open: an open cut short by Ctrl-C or a timeout (its reply
        // never read) may still have created the file on the host. (Staged files go with their directory.)
        if become == nil { temporaries.append(temporary) }
        let file: SFTPFile
        do {
            file = try await connection.sftpOpen(sftp, temporary, .createExclusive, permissions: staging?.fileMode ?? 0o600,
                                                 deadline: deadline)
        } catch let error as SFTPError {
            // The server refused the open, so it created nothing: the name is not ours to remove.
            temporaries.removeAll { $0 == temporary }
            throw SFTPError(status: error.status, path: remote)
        }
        if become != nil { finalModes[temporary] = request.mode ?? entry.mode }
        do {
            for index in 0..<(await reader.chunkCount) {
                let chunk = try await reader.chunk(index)
                try await connection.sftpWrite(file, chunk, deadline: deadline)
                outcome.bytes += UInt64(chunk.count)
                progress?.update(bytes: outcome.bytes)
            }
            // A staged file keeps its staging mode: the final one is set on the copy.
            try await connection.sftpSetAttributes(file, permissions: become == nil ? request.mode ?? entry.mode : nil,
                                                   modificationTime: request.preserveTimes ? entry.modificationTime : nil,
                                                   deadline: deadline)
            try await connection.sftpClose(file, deadline: deadline)
        } catch let error as SFTPError where error.isGenericFailure {
            try? await connection.sftpClose(file)
            // OpenSSH's server reports a full disk as a bare failure: ask the file system.
            if let available = await connection.sftpAvailableBytes(sftp, Self.parent(of: temporary), deadline: .after(seconds: 5)),
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

    static func temporaryName(beside path: String) -> String {
        parent(of: path) + "/." + (path as NSString).lastPathComponent + ".tasker-" + String(UInt32.random(in: 0...UInt32.max), radix: 16)
    }

    /// Renames every temporary file over its destination in one command (after
    /// `chown` when asked), so the host's files change together at the end.
    private func rename(_ moves: [(temporary: String, final: String)], request: PushRequest) async throws {
        if become != nil {
            try await place(moves, request: request)
            return
        }
        var lines = ["set -e"]
        if let owner = request.chownOwner { lines.append("chown -- " + ShellWords.join([owner] + moves.map(\.temporary))) }
        for move in moves { lines.append("mv -f -- " + ShellWords.join([move.temporary, move.final])) }
        _ = try await run(lines.joined(separator: "\n"), failure: "cannot put the files in place")
        temporaries.removeAll { path in moves.contains { $0.temporary == path } }
    }

    /// Through become: makes the directories, copies each staged file beside its
    /// destination with its mode (times and owner when asked), then renames
    /// them all into place. Copies, not moves: the become user may not be allowed
    /// to unlink in the staging directory. Copies left by a failure are removed.
    private func place(_ moves: [(temporary: String, final: String)], request: PushRequest) async throws {
        let copies = moves.map { (staged: $0.temporary, copy: Self.temporaryName(beside: $0.final), final: $0.final) }
        var lines = ["set -e", "tasker_cleanup() { rm -f -- \(ShellWords.join(copies.map(\.copy))); }", "trap tasker_cleanup EXIT"]
        for (path, mode) in directoriesToMake {
            let quoted = ShellWords.join([path])
            lines.append("if [ ! -d \(quoted) ]; then if [ -e \(quoted) ]; then echo \(ShellWords.join(["not a directory: " + path])) >&2; exit 1; fi; "
                         + "mkdir -m \(String(mode & 0o7777, radix: 8)) -- \(quoted); fi")
        }
        for item in copies {
            let mode = String((finalModes[item.staged] ?? 0o644) & 0o7777, radix: 8)
            lines.append("cp -- " + ShellWords.join([item.staged, item.copy]))
            lines.append("chmod \(mode) -- " + ShellWords.join([item.copy]))
            if request.preserveTimes { lines.append("touch -r " + ShellWords.join([item.staged, item.copy])) }
        }
        if let owner = request.chownOwner { lines.append("chown -- " + ShellWords.join([owner] + copies.map(\.copy))) }
        for item in copies { lines.append("mv -f -- " + ShellWords.join([item.copy, item.final])) }
        _ = try await run(lines.joined(separator: "\n"), failure: "cannot put the files in place")
    }

    private func isDirectory(_ path: String) async throws -> Bool {
        guard become != nil else { return try await connection.sftpStat(sftp, path, deadline: deadline)?.isDirectory == true }
        return try await run("[ -d \(ShellWords.join([path])) ] && echo directory; true").hasPrefix("directory")
    }

    /// Runs a shell command on the host (through become when the push uses it); returns its stdout.
    /// A non-zero exit with `failure` set is an error carrying the command's stderr.
    private func run(_ command: String, failure: String? = nil) async throws -> String {
        try await RemoteShell.run(command, on: connection, become: become, deadline: deadline, keepBytes: 4 << 20, failure: failure)
    }

    /// Creates `path` and its missing parents, as `mkdir -p`; an existing directory is left as it is.
    private func ensureDirectory(_ path: String, mode: UInt32) async throws {
        guard !path.isEmpty, path != "/", path != ".", !knownDirectories.contains(path) else { return }
        if become != nil {
            // Made by the become user when the files are placed.
            try await ensureDirectory(Self.parent(of: path), mode: 0o755)
            directoriesToMake.append((path, mode))
            knownDirectories.insert(path)
            return
        }
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

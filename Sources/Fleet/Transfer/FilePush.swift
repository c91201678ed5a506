import Foundation
import Locking
import Platform

/// Pushes files to hosts over SFTP on their pooled connections. Each file is
/// written to a temporary name beside its destination and renamed over it
/// only once every file of the host is complete, so a failed, timed-out or
/// cancelled push leaves neither a partial file nor a temporary one behind.
public final class FilePush: HostJob {
    public let request: PushRequest
    private let readers = SharedFileReaders()
    private let checksums = LocalChecksums()
    /// Entries of sources the same for every host, walked once.
    private let sharedEntries: [String: [LocalEntry]]

    /// Checks the sources that are the same for every host (per-host ones are checked per host).
    public init(_ request: PushRequest) throws {
        self.request = request
        var shared: [String: [LocalEntry]] = [:]
        for source in request.sources where !PushRequest.isPerHost(source) {
            shared[source] = try LocalSource.entries(of: source, recursive: request.recursive)
        }
        sharedEntries = shared
    }

    /// The file bytes each host is sent, when every source is the same for all hosts (nil with `{host}` sources).
    public var bytesPerHost: UInt64? {
        guard request.sources.allSatisfy({ !PushRequest.isPerHost($0) }) else { return nil }
        return sharedEntries.values.joined().reduce(0) { total, entry in
            if case .file(let size) = entry.kind { return total + size }
            return total
        }
    }

    /// One host's push.
    public func run(on spec: ConnectionSpec, pool: ConnectionPool, options: FleetRunOptions,
                    runDeadline: Deadline, expired: RunDeadlineFlag) async -> HostRecord {
        let started = Deadline.now()
        var result = HostRecord(starting: spec)
        let deadline = min(Deadline.after(seconds: request.timeout), runDeadline)
        do {
            let sources = try request.sources.map { source -> [LocalEntry] in
                if let entries = sharedEntries[source] { return entries }
                return try LocalSource.entries(of: PushRequest.expand(source, for: spec), recursive: request.recursive)
            }
            try await HostEvents(spec, options).withConnection(pool, for: spec, since: started) { connection, connectMilliseconds in
                result.connectMilliseconds = connectMilliseconds
                let transfer = try await HostTransfer.start(on: connection, become: spec.become, deadline: deadline)
                transfer.progress = TransferProgressEvents(spec, options)
                do {
                    let outcome = try await transfer.push(sources, request: request, spec: spec, readers: readers,
                                                          checksums: checksums)
                    result.bytesTransferred = outcome.bytes
                    result.commandsRun = outcome.commandsRun
                    if outcome.unchanged { result.status = .unchanged }
                    await transfer.finish()
                } catch {
                    await transfer.abandon()
                    throw error
                }
            }
        } catch {
            result.fail(error, expired: expired,
                        timedOut: request.timeout.map { "transfer timed out after \($0)s; temporary files removed" })
        }
        result.runMilliseconds = Deadline.milliseconds(since: started)
        return result
    }
}

/// SHA-256 of local files, each computed once per run.
final class LocalChecksums: Sendable {
    private let tasks = Locked<[String: Task<String, Error>]>([:])

    func sha256(of path: String) async throws -> String {
        let task = tasks.withLock { tasks in
            if let task = tasks[path] { return task }
            let task = Task {
                let reader = try SharedFileReader(path: path)
                let hasher = Digest.SHA256()
                for index in 0..<(await reader.chunkCount) {
                    let chunk = try await reader.chunk(index)
                    chunk.withUnsafeBytes { hasher.update($0) }
                }
                return hasher.finishHex()
            }
            tasks[path] = task
            return task
        }
        return try await task.value
    }
}

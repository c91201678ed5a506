import Foundation
import Glibc
import Locking
import SSH

/// One local file read once for many hosts: chunks are read from disk as the
/// leading host asks for them and kept in a small window that the hosts
/// close behind it share. A host that falls behind the window reads its
/// chunks from disk itself (a few at a time across all hosts), so a slow host
/// stalls only itself and memory stays bounded whatever the file size and the
/// number of hosts.
actor SharedFileReader {
    /// As large as one libssh2 write window (`sftpWriteWindow`): a host holds one chunk at a time.
    static let chunkSize = 256 << 10
    /// Chunks kept for the hosts behind the leader (8 MiB).
    static let windowChunks = 32

    let path: String
    let size: UInt64
    private let fd: Int32
    private var window: [Int: [UInt8]] = [:]
    /// The next chunk no host has asked for yet.
    private var head = 0
    /// Chunks read for hosts behind the window, now in progress (bounded).
    private var privateReads = 0
    private var privateReadWaiters: [CheckedContinuation<Void, Never>] = []
    private static let maximumPrivateReads = 4

    var chunkCount: Int { Int((size + UInt64(Self.chunkSize) - 1) / UInt64(Self.chunkSize)) }

    init(path: String) throws {
        fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw FleetError.badInput("cannot read \(path): \(String(cString: strerror(errno)).lowercased())") }
        var info = stat()
        fstat(fd, &info)
        size = UInt64(info.st_size)
        self.path = path
    }

    deinit {
        close(fd)
    }

    /// Chunk `index` (the last may be short).
    func chunk(_ index: Int) async throws -> [UInt8] {
        if let cached = window[index] { return cached }
        if index >= head {
            // The leader: read it once for everyone, and slide the window.
            let bytes = try read(index)
            window[index] = bytes
            head = max(head, index + 1)
            for stale in window.keys where stale < head - Self.windowChunks { window[stale] = nil }
            return bytes
        }
        // Behind the window: read privately, a few such reads at a time.
        while privateReads >= Self.maximumPrivateReads {
            await withCheckedContinuation { privateReadWaiters.append($0) }
        }
        privateReads += 1
        defer {
            privateReads -= 1
            if !privateReadWaiters.isEmpty { privateReadWaiters.removeFirst().resume() }
        }
        return try read(index)
    }

    private func read(_ index: Int) throws -> [UInt8] {
        let offset = UInt64(index) * UInt64(Self.chunkSize)
        let length = Int(min(UInt64(Self.chunkSize), size - min(size, offset)))
        var bytes = [UInt8](repeating: 0, count: length)
        var done = 0
        while done < length {
            let n = bytes.withUnsafeMutableBytes { pread(fd, $0.baseAddress! + done, length - done, off_t(offset) + off_t(done)) }
            if n < 0, errno == EINTR { continue }
            guard n > 0 else {
                throw FleetError.badInput("cannot read \(path): " + (n == 0 ? "file shrank while being sent" : String(cString: strerror(errno)).lowercased()))
            }
            done += n
        }
        return bytes
    }
}

/// The readers of one push, by local path, so hosts sending the same file share one.
final class SharedFileReaders: Sendable {
    private let readers = Locked<[String: SharedFileReader]>([:])

    func reader(for path: String) throws -> SharedFileReader {
        try readers.withLock { readers in
            if let reader = readers[path] { return reader }
            let reader = try SharedFileReader(path: path)
            readers[path] = reader
            return reader
        }
    }
}

/// A local file as every command's standard input: one read shared by all hosts.
public struct SharedFileInput: CommandInput {
    private let reader: SharedFileReader

    public init(path: String) throws {
        reader = try SharedFileReader(path: path)
    }

    public func chunk(_ index: Int) async throws -> [UInt8]? {
        index < (await reader.chunkCount) ? try await reader.chunk(index) : nil
    }
}

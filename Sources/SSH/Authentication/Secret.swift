import CLibSSH2
import COpenSSL
import Foundation

/// A password in memory, in storage of its own that is wiped when it goes;
/// it prints as `***`.
public final class Secret: @unchecked Sendable, CustomStringConvertible {
    /// Written once in init, read-only afterwards.
    private let storage: UnsafeMutableBufferPointer<UInt8>

    public init(_ bytes: [UInt8]) {
        storage = .allocate(capacity: max(1, bytes.count))
        _ = storage.initialize(from: bytes)
        count = bytes.count
    }

    let count: Int

    deinit {
        tasker_wipe(storage.baseAddress, storage.count)
        storage.deallocate()
    }

    /// The bytes, valid while this object lives.
    var unsafeBytes: UnsafeBufferPointer<UInt8> {
        UnsafeBufferPointer(rebasing: storage[0..<count])
    }

    /// A password given as text (an inventory's `ansible_become_password`).
    public convenience init(_ text: String) {
        self.init(Array(text.utf8))
    }

    public var description: String { "***" }

    struct FileError: Error, CustomStringConvertible {
        var description: String
    }

    /// The first line of a password file that no one but its owner can read.
    public convenience init(passwordFile path: String) throws {
        var info = stat()
        guard stat(path, &info) == 0 else {
            throw FileError(description: "cannot read password file \(path): \(String(cString: strerror(errno)).lowercased())")
        }
        guard info.st_mode & 0o077 == 0 else {
            throw FileError(description: "password file \(path) is readable by others (mode \(String(info.st_mode & 0o777, radix: 8))); chmod 600 it")
        }
        guard let data = FileManager.default.contents(atPath: path) else {
            throw FileError(description: "cannot read password file \(path)")
        }
        var bytes = [UInt8](data)
        defer { tasker_wipe(&bytes, bytes.count) }
        let line = Array(bytes.prefix { $0 != UInt8(ascii: "\n") && $0 != UInt8(ascii: "\r") })
        guard !line.isEmpty else { throw FileError(description: "password file \(path) is empty") }
        self.init(line)
    }
}

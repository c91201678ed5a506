import CLibSSH2
import Foundation
import Locking

/// An unencrypted OpenSSH ed25519 key file, parsed once per process and held
/// by OpenSSL. libssh2 would re-read and re-decode the file for every
/// connection (OpenSSL 3's decoder lookups dominated connection set-up);
/// signing with the cached key makes authentication a single signature.
final class Ed25519Identity: @unchecked Sendable {
    /// The public key blob (`string "ssh-ed25519", string key`).
    let publicBlob: [UInt8]
    /// `void **` handed to the sign callback; points at the EVP_PKEY. Immutable after init.
    let abstract: UnsafeMutablePointer<UnsafeMutableRawPointer?>

    private init?(seed: [UInt8], publicBlob: [UInt8]) {
        guard let key = seed.withUnsafeBufferPointer({ tasker_ed25519_key_new($0.baseAddress) }) else { return nil }
        self.publicBlob = publicBlob
        abstract = .allocate(capacity: 1)
        abstract.initialize(to: key)
    }

    deinit {
        tasker_ed25519_key_free(abstract.pointee)
        abstract.deallocate()
    }

    private static let cache = Locked<[String: Ed25519Identity?]>([:])

    /// The key at `path`, or nil when it is not an unencrypted OpenSSH ed25519 key
    /// (libssh2 then reads the file itself).
    static func load(_ path: String) -> Ed25519Identity? {
        cache.withLock { cache in
            if let known = cache[path] { return known }
            let identity = FileManager.default.contents(atPath: path).flatMap { parse(String(decoding: $0, as: UTF8.self)) }
            cache[path] = .some(identity)
            return identity
        }
    }

    /// Reads the `openssh-key-v1` container (PROTOCOL.key in OpenSSH's sources).
    static func parse(_ text: String) -> Ed25519Identity? {
        let begin = "-----BEGIN OPENSSH PRIVATE KEY-----"
        let end = "-----END OPENSSH PRIVATE KEY-----"
        guard let start = text.range(of: begin), let stop = text.range(of: end), start.upperBound < stop.lowerBound else { return nil }
        let body = text[start.upperBound..<stop.lowerBound].filter { !$0.isWhitespace }
        guard let data = Data(base64Encoded: String(body)) else { return nil }
        var reader = SSHBufferReader(bytes: [UInt8](data))
        guard reader.readBytes(15) == Array("openssh-key-v1\0".utf8),
              reader.readString() == Array("none".utf8),
              reader.readString() == Array("none".utf8),
              reader.readString() != nil,
              reader.readUInt32() == 1,
              let publicBlob = reader.readString(),
              let privateSection = reader.readString() else { return nil }
        var secret = SSHBufferReader(bytes: privateSection)
        guard let check1 = secret.readUInt32(), let check2 = secret.readUInt32(), check1 == check2,
              secret.readString() == Array("ssh-ed25519".utf8),
              let publicKey = secret.readString(), publicKey.count == 32,
              let privateKey = secret.readString(), privateKey.count == 64 else { return nil }
        return Ed25519Identity(seed: Array(privateKey.prefix(32)), publicBlob: publicBlob)
    }
}

import COpenSSL

/// Hashes, key derivation, MACs and ciphers: every one Tasker uses comes from
/// the crypto library libssh2 links (OpenSSL), through this file.
public enum Cryptography {
    public struct Failure: Error, CustomStringConvertible {
        public var description: String
    }

    public static func pbkdf2SHA256(password: [UInt8], salt: [UInt8], iterations: Int, length: Int) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: length)
        _ = tasker_pbkdf2_sha256(password, password.count, salt, salt.count, Int32(iterations), &out, length)
        return out
    }

    public static func hmacSHA256(key: [UInt8], data: [UInt8]) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: 32)
        _ = tasker_hmac(0, key, key.count, data, data.count, &out)
        return out
    }

    /// HMAC-SHA1: only for matching hashed known_hosts entries (`|1|salt|hash`).
    public static func hmacSHA1(key: [UInt8], data: [UInt8]) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: 20)
        _ = tasker_hmac(1, key, key.count, data, data.count, &out)
        return out
    }

    /// AES-256 in counter mode with a 16-byte initial counter block; the same call encrypts and decrypts.
    public static func aes256CTR(key: [UInt8], counter: [UInt8], data: [UInt8]) throws -> [UInt8] {
        var out = [UInt8](repeating: 0, count: data.count)
        guard key.count == 32, counter.count == 16, tasker_cipher("AES-256-CTR", 0, key, counter, data, data.count, &out) == 0 else {
            throw Failure(description: "AES-256-CTR failed")
        }
        return out
    }
}

/// SHA-256, whole or in pieces (task file hashes, report IDs, pushed files' checksums).
public enum Digest {
    public static func sha256(_ bytes: [UInt8]) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: 32)
        _ = bytes.withUnsafeBytes { input in
            out.withUnsafeMutableBufferPointer { tasker_sha256(input.baseAddress, input.count, $0.baseAddress) }
        }
        return out
    }

    public static func sha256Hex(_ bytes: [UInt8]) -> String {
        hex(sha256(bytes))
    }

    public static func hex(_ bytes: [UInt8]) -> String {
        bytes.map { String($0, radix: 16).count == 1 ? "0" + String($0, radix: 16) : String($0, radix: 16) }.joined()
    }

    /// SHA-256 of data given in pieces.
    public final class SHA256: @unchecked Sendable {
        /// The EVP_MD_CTX until `finish`; used by one owner at a time.
        private var context: UnsafeMutableRawPointer?

        public init() {
            context = tasker_sha256_begin()
        }

        deinit {
            var discarded = [UInt8](repeating: 0, count: 32)
            if let context { _ = tasker_sha256_end(context, &discarded) }
        }

        public func update(_ bytes: UnsafeRawBufferPointer) {
            guard let context, bytes.count > 0 else { return }
            _ = tasker_sha256_update(context, bytes.baseAddress, bytes.count)
        }

        /// The digest in lower-case hex; the hasher cannot be used after.
        public func finishHex() -> String {
            var out = [UInt8](repeating: 0, count: 32)
            if let context { _ = tasker_sha256_end(context, &out) }
            context = nil
            return Digest.hex(out)
        }
    }
}

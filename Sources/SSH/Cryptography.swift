import CLibSSH2

/// Key derivation, MACs and ciphers from the crypto library libssh2 links,
/// for callers outside the SSH layer (Ansible Vault).
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
        _ = tasker_hmac_sha256(key, key.count, data, data.count, &out)
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

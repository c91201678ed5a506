import CLibSSH2
import COpenSSL
import Foundation

/// An `openssh-key-v1` private key file, as `ssh-keygen` writes it (PROTOCOL.key
/// in OpenSSH's sources). The public key is readable without the passphrase;
/// the private part may be encrypted with a key derived by bcrypt_pbkdf.
struct OpenSSHPrivateKeyFile {
    static let beginMarker = "-----BEGIN OPENSSH PRIVATE KEY-----"
    static let endMarker = "-----END OPENSSH PRIVATE KEY-----"

    let cipher: KeyFileCipher
    /// The public key blob stored in the clear.
    let publicBlob: [UInt8]
    private let salt: [UInt8]
    private let rounds: Int
    private let encrypted: [UInt8]
    /// The authentication tag after the encrypted section (GCM, ChaCha20-Poly1305).
    private let tag: [UInt8]

    var isEncrypted: Bool { cipher != .none }

    enum ParseError: Error, Equatable, CustomStringConvertible {
        case notThisFormat
        case malformed(String)
        case unsupported(String)
        case wrongPassphrase

        var description: String {
            switch self {
            case .notThisFormat: return "not an OpenSSH private key"
            case .malformed(let what): return "malformed OpenSSH private key (\(what))"
            case .unsupported(let what): return what
            case .wrongPassphrase: return "incorrect passphrase"
            }
        }
    }

    init(text: String) throws {
        guard let start = text.range(of: Self.beginMarker), let stop = text.range(of: Self.endMarker),
              start.upperBound < stop.lowerBound else { throw ParseError.notThisFormat }
        let body = text[start.upperBound..<stop.lowerBound].filter { !$0.isWhitespace }
        guard let data = Data(base64Encoded: String(body)) else { throw ParseError.malformed("bad base64") }
        var reader = SSHBufferReader(bytes: [UInt8](data))
        guard reader.readBytes(15) == Array("openssh-key-v1\0".utf8) else { throw ParseError.malformed("no openssh-key-v1 header") }
        guard let cipherName = reader.readString(), let kdfName = reader.readString(), let kdfOptions = reader.readString(),
              let count = reader.readUInt32() else { throw ParseError.malformed("truncated header") }
        guard count == 1 else { throw ParseError.unsupported("key files holding \(count) keys are not supported") }
        guard let publicBlob = reader.readString(), let encrypted = reader.readString() else {
            throw ParseError.malformed("truncated key")
        }
        let name = String(decoding: cipherName, as: UTF8.self)
        guard let cipher = KeyFileCipher(rawValue: name) else {
            throw ParseError.unsupported("key file cipher \(name) is not supported")
        }
        self.cipher = cipher
        self.publicBlob = publicBlob
        tag = reader.readBytes(cipher.tagLength) ?? []
        guard tag.count == cipher.tagLength else { throw ParseError.malformed("missing authentication tag") }
        self.encrypted = encrypted
        switch String(decoding: kdfName, as: UTF8.self) {
        case "none" where cipher == .none:
            salt = []
            rounds = 0
        case "bcrypt" where cipher != .none:
            var options = SSHBufferReader(bytes: kdfOptions)
            guard let salt = options.readString(), let rounds = options.readUInt32(), rounds > 0, !salt.isEmpty else {
                throw ParseError.malformed("bad bcrypt options")
            }
            self.salt = salt
            self.rounds = Int(rounds)
        case let other:
            throw ParseError.unsupported("key file KDF \(other) with cipher \(name) is not supported")
        }
        guard encrypted.count % cipher.blockSize == 0 else { throw ParseError.malformed("private section not a whole number of blocks") }
    }

    /// The private key, decrypted with `passphrase` when the file is encrypted.
    func privateKey(passphrase: [UInt8] = []) throws -> PrivateKey {
        var plain = encrypted
        if isEncrypted {
            guard var material = BcryptPBKDF.deriveKey(passphrase: passphrase, salt: salt, rounds: rounds,
                                                       length: cipher.keyLength + cipher.ivLength) else {
                throw ParseError.malformed("bad bcrypt options")
            }
            var key = Array(material.prefix(cipher.keyLength))
            var iv = Array(material.suffix(cipher.ivLength))
            // The derived key and IV open the private key: gone as soon as it is decrypted.
            defer {
                tasker_wipe(&material, material.count)
                tasker_wipe(&key, key.count)
                tasker_wipe(&iv, iv.count)
            }
            guard let decrypted = cipher.decrypt(encrypted, key: key, iv: iv, tag: tag) else {
                throw ParseError.wrongPassphrase
            }
            plain = decrypted
        }
        defer { tasker_wipe(&plain, plain.count) }
        var reader = SSHBufferReader(bytes: plain)
        guard let check1 = reader.readUInt32(), let check2 = reader.readUInt32() else { throw ParseError.malformed("truncated private section") }
        guard check1 == check2 else {
            throw isEncrypted ? ParseError.wrongPassphrase : ParseError.malformed("check numbers differ")
        }
        guard let key = try Self.readPrivateKey(&reader) else { throw ParseError.malformed("bad private key") }
        guard key.publicBlob == publicBlob else { throw ParseError.malformed("private key does not match its public key") }
        return key
    }

    /// One private key in the agent protocol's encoding.
    private static func readPrivateKey(_ reader: inout SSHBufferReader) throws -> PrivateKey? {
        guard let typeBytes = reader.readString() else { return nil }
        let type = String(decoding: typeBytes, as: UTF8.self)
        switch UserKeyKind(keyTypeName: type) {
        case .ed25519 where !type.contains("cert"):
            guard let publicKey = reader.readString(), publicKey.count == 32,
                  let secret = reader.readString(), secret.count == 64 else { return nil }
            var seed = Array(secret.prefix(32))
            defer { tasker_wipe(&seed, seed.count) }
            return tasker_ed25519_key_new(seed).flatMap(PrivateKey.init(taking:))
        case .rsa where !type.contains("cert"):
            guard let n = reader.readMPInt(), let e = reader.readMPInt(), let d = reader.readMPInt(),
                  let iqmp = reader.readMPInt(), let p = reader.readMPInt(), let q = reader.readMPInt() else { return nil }
            let key = n.withUnsafeBufferPointer { n in e.withUnsafeBufferPointer { e in d.withUnsafeBufferPointer { d in
                iqmp.withUnsafeBufferPointer { iqmp in p.withUnsafeBufferPointer { p in q.withUnsafeBufferPointer { q in
                    tasker_rsa_key_new(n.baseAddress, n.count, e.baseAddress, e.count, d.baseAddress, d.count,
                                       iqmp.baseAddress, iqmp.count, p.baseAddress, p.count, q.baseAddress, q.count)
                } } } } } }
            return key.flatMap(PrivateKey.init(taking:))
        case .ecdsa(let curve) where !type.contains("cert"):
            guard reader.readString() == Array(curve.rawValue.utf8), let point = reader.readString(),
                  let scalar = reader.readMPInt() else { return nil }
            let key = point.withUnsafeBufferPointer { point in scalar.withUnsafeBufferPointer { scalar in
                tasker_ecdsa_key_new(curve.groupName, point.baseAddress, point.count, scalar.baseAddress, scalar.count)
            } }
            return key.flatMap(PrivateKey.init(taking:))
        default:
            throw ParseError.unsupported("\(type) keys are not supported")
        }
    }
}

/// The ciphers `ssh-keygen` encrypts private keys with (`ssh-keygen -Z`).
enum KeyFileCipher: String {
    case none
    case aes128CTR = "aes128-ctr", aes192CTR = "aes192-ctr", aes256CTR = "aes256-ctr"
    case aes128CBC = "aes128-cbc", aes192CBC = "aes192-cbc", aes256CBC = "aes256-cbc"
    case aes256GCM = "aes256-gcm@openssh.com"
    case chacha20Poly1305 = "chacha20-poly1305@openssh.com"

    var keyLength: Int {
        switch self {
        case .none: return 0
        case .aes128CTR, .aes128CBC: return 16
        case .aes192CTR, .aes192CBC: return 24
        case .aes256CTR, .aes256CBC, .aes256GCM: return 32
        case .chacha20Poly1305: return 64
        }
    }

    var ivLength: Int {
        switch self {
        case .none, .chacha20Poly1305: return 0
        case .aes256GCM: return 12
        default: return 16
        }
    }

    var blockSize: Int {
        switch self {
        case .none, .chacha20Poly1305: return 8
        default: return 16
        }
    }

    var tagLength: Int {
        self == .aes256GCM || self == .chacha20Poly1305 ? 16 : 0
    }

    /// The plain text, or nil when the tag does not verify or the cipher fails.
    func decrypt(_ data: [UInt8], key: [UInt8], iv: [UInt8], tag: [UInt8]) -> [UInt8]? {
        var out = [UInt8](repeating: 0, count: data.count)
        let ok: Bool
        switch self {
        case .none:
            return data
        case .aes128CTR, .aes192CTR, .aes256CTR, .aes128CBC, .aes192CBC, .aes256CBC:
            let name = "AES-\(keyLength * 8)-" + (rawValue.hasSuffix("ctr") ? "CTR" : "CBC")
            ok = tasker_cipher(name, 0, key, iv, data, data.count, &out) == 0
        case .aes256GCM:
            var tag = tag
            ok = tasker_aes256_gcm(0, key, iv, data, data.count, &out, &tag) == 0
        case .chacha20Poly1305:
            ok = Self.chachaPoly1305Decrypt(data, key: key, tag: tag, into: &out)
        }
        return ok ? out : nil
    }

    /// OpenSSH's chacha20-poly1305@openssh.com at sequence number 0 with no
    /// length header: the Poly1305 key is the first ChaCha20 block (counter 0)
    /// under the first 32 key bytes; the data is encrypted from counter 1.
    /// OpenSSL's ChaCha20 IV is a 32-bit little-endian counter then a 96-bit nonce,
    /// which for a zero 64-bit nonce equals OpenSSH's 64-bit counter layout.
    private static func chachaPoly1305Decrypt(_ data: [UInt8], key: [UInt8], tag: [UInt8], into out: inout [UInt8]) -> Bool {
        let mainKey = Array(key.prefix(32))
        var polyKey = [UInt8](repeating: 0, count: 32)
        let zeros = polyKey
        let counter0 = [UInt8](repeating: 0, count: 16)
        var counter1 = counter0
        counter1[0] = 1
        guard tasker_cipher("ChaCha20", 1, mainKey, counter0, zeros, 32, &polyKey) == 0 else { return false }
        defer { tasker_wipe(&polyKey, polyKey.count) }
        var expected = [UInt8](repeating: 0, count: 16)
        guard tasker_poly1305(polyKey, data, data.count, &expected) == 0,
              zip(expected, tag).reduce(UInt8(0), { $0 | ($1.0 ^ $1.1) }) == 0 else { return false }
        return tasker_cipher("ChaCha20", 0, mainKey, counter1, data, data.count, &out) == 0
    }
}

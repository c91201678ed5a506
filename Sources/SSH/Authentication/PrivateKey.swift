import CLibSSH2
import COpenSSL
import Foundation

/// The kinds of user key Tasker signs with.
public enum UserKeyKind: Equatable, Sendable {
    case ed25519
    case rsa
    case ecdsa(ECDSACurve)

    /// The key type name of its public key blob.
    var keyTypeName: String {
        switch self {
        case .ed25519: return "ssh-ed25519"
        case .rsa: return "ssh-rsa"
        case .ecdsa(let curve): return "ecdsa-sha2-\(curve.rawValue)"
        }
    }

    init?(keyTypeName name: String) {
        switch name {
        case "ssh-ed25519", "ssh-ed25519-cert-v01@openssh.com": self = .ed25519
        case "ssh-rsa", "ssh-rsa-cert-v01@openssh.com": self = .rsa
        default:
            guard let curve = ECDSACurve.allCases.first(where: {
                name == "ecdsa-sha2-\($0.rawValue)" || name == "ecdsa-sha2-\($0.rawValue)-cert-v01@openssh.com"
            }) else { return nil }
            self = .ecdsa(curve)
        }
    }

    /// Signature algorithms for this kind of key, most preferred first. RSA has
    /// three (SHA-512, SHA-256, SHA-1); libssh2 1.10 cannot learn which the
    /// server takes (no `server-sig-algs`), so they are tried in this order.
    var signatureAlgorithms: [SignatureAlgorithm] {
        switch self {
        case .ed25519: return [SignatureAlgorithm(name: "ssh-ed25519", digest: nil)]
        case .rsa: return [.rsaSHA512, .rsaSHA256, .rsaSHA1]
        case .ecdsa(let curve): return [SignatureAlgorithm(name: keyTypeName, digest: curve.digest)]
        }
    }
}

public enum ECDSACurve: String, CaseIterable, Sendable {
    case nistp256, nistp384, nistp521

    /// OpenSSL's name for the curve.
    var groupName: String {
        switch self {
        case .nistp256: return "prime256v1"
        case .nistp384: return "secp384r1"
        case .nistp521: return "secp521r1"
        }
    }

    init?(groupName: String) {
        guard let curve = Self.allCases.first(where: { $0.groupName == groupName }) else { return nil }
        self = curve
    }

    var digest: String {
        switch self {
        case .nistp256: return "SHA256"
        case .nistp384: return "SHA384"
        case .nistp521: return "SHA512"
        }
    }
}

/// A public-key signature algorithm: its SSH name and the digest it signs.
struct SignatureAlgorithm: Equatable, Sendable {
    var name: String
    /// OpenSSL's digest name; nil for ed25519, which hashes internally.
    var digest: String?

    static let rsaSHA512 = SignatureAlgorithm(name: "rsa-sha2-512", digest: "SHA512")
    static let rsaSHA256 = SignatureAlgorithm(name: "rsa-sha2-256", digest: "SHA256")
    static let rsaSHA1 = SignatureAlgorithm(name: "ssh-rsa", digest: "SHA1")
}

/// A user's private key, decoded once and held by OpenSSL for the run.
final class PrivateKey: @unchecked Sendable {
    let kind: UserKeyKind
    /// The public key blob (`string type, …`).
    let publicBlob: [UInt8]
    /// The EVP_PKEY; immutable after init, and OpenSSL signs with it from any thread.
    private let key: OpaquePointer

    /// Takes ownership of an EVP_PKEY; nil (and the key freed) for a kind Tasker does not sign with.
    init?(taking key: UnsafeMutableRawPointer) {
        guard let kind = Self.kind(of: key), let blob = Self.publicBlob(of: key, kind: kind) else {
            tasker_key_free(key)
            return nil
        }
        self.key = OpaquePointer(key)
        self.kind = kind
        publicBlob = blob
    }

    deinit {
        tasker_key_free(UnsafeMutableRawPointer(key))
    }

    /// The signature of `data` as SSH carries it inside the signature blob
    /// (without the algorithm name, which libssh2 adds): RSA's PKCS#1 bytes,
    /// ECDSA's `mpint r, mpint s`, ed25519's 64 bytes.
    func sign(_ data: [UInt8], algorithm: SignatureAlgorithm) -> [UInt8]? {
        var signature: UnsafeMutablePointer<UInt8>?
        var length = 0
        let rc = data.withUnsafeBufferPointer { input in
            tasker_key_sign(UnsafeRawPointer(key), algorithm.digest, input.baseAddress, input.count, &signature, &length)
        }
        guard rc == 0, let signature else { return nil }
        defer { free(signature) }
        let bytes = [UInt8](UnsafeBufferPointer(start: signature, count: length))
        if case .ecdsa = kind { return Self.sshECDSASignature(fromDER: bytes) }
        return bytes
    }

    private static func kind(of key: UnsafeMutableRawPointer) -> UserKeyKind? {
        switch Int(tasker_key_kind(key)) {
        case Int(TASKER_KEY_ED25519): return .ed25519
        case Int(TASKER_KEY_RSA): return .rsa
        case Int(TASKER_KEY_EC):
            var name = [CChar](repeating: 0, count: 64)
            let length = tasker_key_group_name(key, &name, name.count)
            guard length > 0,
                  let curve = ECDSACurve(groupName: String(decoding: name.prefix(Int(length)).map(UInt8.init(bitPattern:)), as: UTF8.self))
            else { return nil }
            return .ecdsa(curve)
        default: return nil
        }
    }

    private static func publicBlob(of key: UnsafeMutableRawPointer, kind: UserKeyKind) -> [UInt8]? {
        var blob = SSHBufferWriter()
        blob.writeString(Array(kind.keyTypeName.utf8))
        switch kind {
        case .ed25519:
            var point = [UInt8](repeating: 0, count: 32)
            guard tasker_ed25519_public_key(key, &point) == 0 else { return nil }
            blob.writeString(point)
        case .rsa:
            guard let e = parameter(key, "e"), let n = parameter(key, "n") else { return nil }
            blob.writeMPInt(e)
            blob.writeMPInt(n)
        case .ecdsa(let curve):
            var point = [UInt8](repeating: 0, count: 160)
            let length = tasker_key_octet_param(key, "encoded-pub-key", &point, point.count)
            guard length > 0 else { return nil }
            blob.writeString(Array(curve.rawValue.utf8))
            blob.writeString(Array(point.prefix(Int(length))))
        }
        return blob.bytes
    }

    private static func parameter(_ key: UnsafeMutableRawPointer, _ name: String) -> [UInt8]? {
        var value = [UInt8](repeating: 0, count: 2048)
        let length = tasker_key_bn_param(key, name, &value, value.count)
        return length > 0 ? Array(value.prefix(Int(length))) : nil
    }

    /// ECDSA-Sig-Value (DER `SEQUENCE { INTEGER r, INTEGER s }`) as SSH's `mpint r, mpint s`.
    static func sshECDSASignature(fromDER der: [UInt8]) -> [UInt8]? {
        var reader = DERReader(bytes: der)
        guard let sequence = reader.read(tag: 0x30) else { return nil }
        var inner = DERReader(bytes: sequence)
        guard let r = inner.read(tag: 0x02), let s = inner.read(tag: 0x02), inner.isAtEnd else { return nil }
        var out = SSHBufferWriter()
        out.writeMPInt(r)
        out.writeMPInt(s)
        return out.bytes
    }
}

/// Just enough DER to read an ECDSA signature.
private struct DERReader {
    let bytes: [UInt8]
    var offset = 0

    var isAtEnd: Bool { offset == bytes.count }

    mutating func read(tag: UInt8) -> [UInt8]? {
        guard offset + 2 <= bytes.count, bytes[offset] == tag else { return nil }
        var length = Int(bytes[offset + 1])
        offset += 2
        if length & 0x80 != 0 {
            let count = length & 0x7f
            guard count >= 1, count <= 2, offset + count <= bytes.count else { return nil }
            length = bytes[offset..<(offset + count)].reduce(0) { $0 << 8 | Int($1) }
            offset += count
        }
        guard offset + length <= bytes.count else { return nil }
        defer { offset += length }
        return Array(bytes[offset..<(offset + length)])
    }
}

import CLibSSH2
import COpenSSL
import Foundation

/// A private key file named by `IdentityFile` (or `-k`), read without its
/// passphrase: what it is, and its public key when that can be known before
/// decrypting (always for OpenSSH's format; from `FILE.pub` for PEM).
struct IdentityFile: Sendable {
    enum Format: Sendable {
        case openSSH
        case pem
    }

    let path: String
    let format: Format
    let isEncrypted: Bool
    /// The public key blob, when known without the passphrase.
    let publicBlob: [UInt8]?
    private let text: String

    struct LoadError: Error, CustomStringConvertible {
        var description: String
    }

    init(path: String) throws {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw LoadError(description: FileManager.default.fileExists(atPath: path) ? "cannot read key file \(path)" : "no key file \(path)")
        }
        try self.init(text: String(decoding: data, as: UTF8.self), path: path, publicKeyBlob: Self.publicKeyBlob(atPath: path + ".pub"))
    }

    /// A key file's text; `publicKeyBlob` is what its `.pub` file holds, if any.
    init(text: String, path: String, publicKeyBlob sidecar: [UInt8]?) throws {
        self.path = path
        self.text = text
        if text.contains(OpenSSHPrivateKeyFile.beginMarker) {
            let file: OpenSSHPrivateKeyFile
            do { file = try OpenSSHPrivateKeyFile(text: text) } catch {
                throw LoadError(description: "\(path): \(error)")
            }
            format = .openSSH
            isEncrypted = file.isEncrypted
            publicBlob = file.publicBlob
        } else if text.contains("-----BEGIN ") && text.contains("PRIVATE KEY-----") {
            format = .pem
            isEncrypted = text.contains("ENCRYPTED")
            publicBlob = sidecar
        } else {
            throw LoadError(description: "\(path) is not a private key file (neither OpenSSH nor PEM format)")
        }
    }

    /// The decrypted key. `passphrase` is ignored for an unencrypted file.
    func privateKey(passphrase: [UInt8]) throws -> PrivateKey {
        switch format {
        case .openSSH:
            do {
                return try OpenSSHPrivateKeyFile(text: text).privateKey(passphrase: passphrase)
            } catch OpenSSHPrivateKeyFile.ParseError.wrongPassphrase {
                throw PassphraseError.wrong
            } catch {
                throw LoadError(description: "\(path): \(error)")
            }
        case .pem:
            var secret = passphrase + [0]
            defer { tasker_wipe(&secret, secret.count) }
            let key = text.utf8CString.withUnsafeBufferPointer { pem in
                secret.withUnsafeBufferPointer { secret in
                    secret.withMemoryRebound(to: CChar.self) {
                        tasker_pem_key_read(pem.baseAddress, pem.count - 1, isEncrypted ? $0.baseAddress : nil)
                    }
                }
            }
            if let key {
                guard let privateKey = PrivateKey(taking: key) else {
                    throw LoadError(description: "\(path): key type not supported (Tasker signs with ed25519, RSA and ECDSA keys)")
                }
                return privateKey
            }
            // A wrong passphrase leaves valid CBC padding about once in 256 tries; the decrypted bytes then fail
            // to parse, which OpenSSL reports as unreadable. For an encrypted key, both mean the passphrase is wrong.
            if isEncrypted { throw PassphraseError.wrong }
            throw LoadError(description: "\(path): OpenSSL cannot read this PEM private key")
        }
    }

    enum PassphraseError: Error {
        case wrong
    }

    /// The key blob of an OpenSSH public key line (`type base64 [comment]`).
    static func publicKeyBlob(atPath path: String) -> [UInt8]? {
        guard let data = FileManager.default.contents(atPath: path) else { return nil }
        return publicKeyBlob(line: String(decoding: data, as: UTF8.self))
    }

    static func publicKeyBlob(line: String) -> [UInt8]? {
        let fields = line.split(whereSeparator: { $0 == " " || $0 == "\t" || $0 == "\n" })
        guard fields.count >= 2, let data = Data(base64Encoded: String(fields[1])) else { return nil }
        let blob = [UInt8](data)
        var reader = SSHBufferReader(bytes: blob)
        guard reader.readString().map({ String(decoding: $0, as: UTF8.self) }) == String(fields[0]) else { return nil }
        return blob
    }
}

/// Tasker's reading of key files, for callers outside the SSH layer (the fuzz targets).
public enum KeyFileReader {
    /// Reads private key text as a login would, decrypting only unencrypted keys;
    /// returns the key type, or why it cannot be used.
    public static func describe(privateKey text: String) -> String {
        do {
            let file = try IdentityFile(text: text, path: "key", publicKeyBlob: nil)
            if file.isEncrypted { return "encrypted" }
            return try file.privateKey(passphrase: []).kind.keyTypeName
        } catch {
            return "\(error)"
        }
    }

    /// Reads a public key or certificate line; returns its type and, for a certificate, its validity.
    public static func describe(publicKeyLine line: String) -> String {
        guard let blob = IdentityFile.publicKeyBlob(line: line) else { return "not a public key" }
        guard let certificate = UserCertificate(blob: blob, source: "line") else { return HostKey.typeName(fromBlob: blob) ?? "unknown" }
        return certificate.typeName + " " + (certificate.validityProblem() ?? "valid")
    }
}

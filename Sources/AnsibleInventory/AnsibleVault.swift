import Foundation
import Platform

/// Ansible Vault's envelope (`$ANSIBLE_VAULT;1.1;AES256`, or `1.2` with a vault
/// id), as ansible-core's vault module defines it: the hex of
/// `hex(salt) \n hex(hmac) \n hex(ciphertext)`; PBKDF2-HMAC-SHA256 (10,000
/// rounds) of the password gives an AES-256 key, an HMAC-SHA256 key and the
/// CTR counter; the HMAC covers the ciphertext; the plain text is PKCS#7-padded.
public enum AnsibleVault {
    public static let header = "$ANSIBLE_VAULT;"

    public enum Failure: Error, Equatable, CustomStringConvertible {
        case malformed(String)
        case unsupportedCipher(String)
        /// The HMAC does not verify: another password (or a damaged file).
        case wrongPassword

        public var description: String {
            switch self {
            case .malformed(let what): return "malformed vault data (\(what))"
            case .unsupportedCipher(let name): return "vault cipher \(name) is not supported (only AES256)"
            case .wrongPassword: return "the vault password does not decrypt it"
            }
        }
    }

    public static func isEncrypted(_ text: String) -> Bool {
        text.drop { $0.isWhitespace }.hasPrefix(header)
    }

    public static func decrypt(_ envelope: String, password: [UInt8]) throws -> [UInt8] {
        let lines = envelope.split(whereSeparator: \.isNewline).map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        guard let first = lines.first, first.hasPrefix(header) else { throw Failure.malformed("no $ANSIBLE_VAULT header") }
        let fields = first.split(separator: ";").map { $0.trimmingCharacters(in: .whitespaces) }
        guard fields.count >= 3, ["1.1", "1.2"].contains(fields[1]) else { throw Failure.malformed("unknown header \(first)") }
        guard fields[2] == "AES256" else { throw Failure.unsupportedCipher(fields[2]) }
        guard let inner = hex(lines.dropFirst().joined()) else { throw Failure.malformed("the body is not hexadecimal") }
        let parts = inner.split(separator: UInt8(ascii: "\n"), maxSplits: 2, omittingEmptySubsequences: false)
        guard parts.count == 3, let salt = hex(String(decoding: parts[0], as: UTF8.self)),
              let mac = hex(String(decoding: parts[1], as: UTF8.self)),
              let ciphertext = hex(String(decoding: parts[2], as: UTF8.self)) else {
            throw Failure.malformed("expected salt, HMAC and ciphertext")
        }
        let material = Cryptography.pbkdf2SHA256(password: password, salt: salt, iterations: 10_000, length: 80)
        let cipherKey = Array(material[0..<32])
        let macKey = Array(material[32..<64])
        let counter = Array(material[64..<80])
        let expected = Cryptography.hmacSHA256(key: macKey, data: ciphertext)
        guard expected.count == mac.count, zip(expected, mac).reduce(UInt8(0), { $0 | ($1.0 ^ $1.1) }) == 0 else {
            throw Failure.wrongPassword
        }
        let padded = try Cryptography.aes256CTR(key: cipherKey, counter: counter, data: ciphertext)
        guard let pad = padded.last, (1...16).contains(pad), padded.count >= Int(pad),
              padded.suffix(Int(pad)).allSatisfy({ $0 == pad }) else { throw Failure.malformed("bad padding") }
        return Array(padded.dropLast(Int(pad)))
    }

    private static func hex(_ text: String) -> [UInt8]? {
        let digits = Array(text.utf8)
        guard digits.count % 2 == 0 else { return nil }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(digits.count / 2)
        var index = 0
        while index < digits.count {
            guard let high = value(digits[index]), let low = value(digits[index + 1]) else { return nil }
            bytes.append(high << 4 | low)
            index += 2
        }
        return bytes
    }

    private static func value(_ digit: UInt8) -> UInt8? {
        switch digit {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): return digit - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): return digit - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): return digit - UInt8(ascii: "A") + 10
        default: return nil
        }
    }
}

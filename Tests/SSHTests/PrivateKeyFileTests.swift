import Foundation
import TestFleet
import XCTest
@testable import SSH

/// Key files as `ssh-keygen` and OpenSSL write them: every format and cipher
/// decodes to the key its public half names, and signs.
final class PrivateKeyFileTests: XCTestCase {
    private var directory: TemporaryDirectory!

    override func setUpWithError() throws {
        directory = try TemporaryDirectory()
    }

    private func keygen(_ name: String, _ arguments: [String]) throws -> String {
        let path = "\(directory.path)/\(name)"
        let result = try ProcessRunner.run("/usr/bin/ssh-keygen", ["-q", "-f", path, "-C", name] + arguments)
        XCTAssertEqual(result.status, 0, result.stderr)
        return path
    }

    private func assertDecodes(_ path: String, passphrase: String = "", file: StaticString = #filePath, line: UInt = #line) throws {
        let identity = try IdentityFile(path: path)
        let expected = try XCTUnwrap(IdentityFile.publicKeyBlob(atPath: path + ".pub"), file: file, line: line)
        let key = try identity.privateKey(passphrase: Array(passphrase.utf8))
        XCTAssertEqual(key.publicBlob, expected, "\(path)", file: file, line: line)
        if let blob = identity.publicBlob { XCTAssertEqual(blob, expected, file: file, line: line) }
        for algorithm in key.kind.signatureAlgorithms {
            XCTAssertNotNil(key.sign(Array("data".utf8), algorithm: algorithm), "\(path) \(algorithm.name)", file: file, line: line)
        }
    }

    func testUnencryptedOpenSSHKeysOfEveryKind() throws {
        try assertDecodes(keygen("ed25519", ["-t", "ed25519", "-N", ""]))
        try assertDecodes(keygen("rsa", ["-t", "rsa", "-b", "2048", "-N", ""]))
        for bits in ["256", "384", "521"] {
            try assertDecodes(keygen("ecdsa\(bits)", ["-t", "ecdsa", "-b", bits, "-N", ""]))
        }
    }

    func testEncryptedOpenSSHKeysWithEveryCipherSSHKeygenOffers() throws {
        for cipher in ["aes256-ctr", "aes128-ctr", "aes256-cbc", "aes256-gcm@openssh.com", "chacha20-poly1305@openssh.com"] {
            let path = try keygen("enc-\(cipher)", ["-t", "ed25519", "-N", "correct horse", "-Z", cipher, "-a", "4"])
            let identity = try IdentityFile(path: path)
            XCTAssertTrue(identity.isEncrypted)
            XCTAssertNotNil(identity.publicBlob, "the public key of an OpenSSH key file is readable without the passphrase")
            try assertDecodes(path, passphrase: "correct horse")
            XCTAssertThrowsError(try identity.privateKey(passphrase: Array("wrong".utf8)), cipher) { error in
                guard case IdentityFile.PassphraseError.wrong = error else { return XCTFail("\(cipher): \(error)") }
            }
        }
        try assertDecodes(keygen("enc-rsa", ["-t", "rsa", "-b", "2048", "-N", "pw", "-a", "2"]), passphrase: "pw")
        try assertDecodes(keygen("enc-ecdsa", ["-t", "ecdsa", "-N", "pw", "-a", "2"]), passphrase: "pw")
    }

    func testPEMKeysPlainAndEncrypted() throws {
        try assertDecodes(keygen("pem-rsa", ["-t", "rsa", "-b", "2048", "-N", "", "-m", "PEM"]))
        try assertDecodes(keygen("pem-ecdsa", ["-t", "ecdsa", "-N", "", "-m", "PEM"]))
        try assertDecodes(keygen("pkcs8-rsa", ["-t", "rsa", "-b", "2048", "-N", "", "-m", "PKCS8"]))
        let encrypted = try keygen("pem-rsa-enc", ["-t", "rsa", "-b", "2048", "-N", "pem pass", "-m", "PEM"])
        XCTAssertTrue(try IdentityFile(path: encrypted).isEncrypted)
        try assertDecodes(encrypted, passphrase: "pem pass")
        // Enough wrong passphrases that some leave valid padding (about 1 in 256): each is still "wrong".
        let identity = try IdentityFile(path: encrypted)
        for attempt in 0..<1500 {
            XCTAssertThrowsError(try identity.privateKey(passphrase: Array("nope \(attempt)".utf8))) { error in
                guard case IdentityFile.PassphraseError.wrong = error else { return XCTFail("attempt \(attempt): \(error)") }
            }
        }
        let pkcs8 = try keygen("pkcs8-enc", ["-t", "ecdsa", "-N", "pkcs8 pass", "-m", "PKCS8"])
        try assertDecodes(pkcs8, passphrase: "pkcs8 pass")
    }

    func testWhatIsNotAKeyIsSaidPlainly() throws {
        let path = directory.path + "/junk"
        try "hello\n".write(toFile: path, atomically: true, encoding: .utf8)
        XCTAssertThrowsError(try IdentityFile(path: path)) { XCTAssertTrue("\($0)".contains("not a private key file"), "\($0)") }
        XCTAssertThrowsError(try IdentityFile(path: directory.path + "/missing")) { XCTAssertTrue("\($0)".contains("no key file"), "\($0)") }
    }

    func testECDSASignatureIsConvertedFromDER() {
        // SEQUENCE { INTEGER 0x00 0x80, INTEGER 0x01 }: r needs its sign byte kept, s is short.
        let der: [UInt8] = [0x30, 0x07, 0x02, 0x02, 0x00, 0x80, 0x02, 0x01, 0x01]
        XCTAssertEqual(PrivateKey.sshECDSASignature(fromDER: der), [0, 0, 0, 2, 0x00, 0x80, 0, 0, 0, 1, 0x01])
        XCTAssertNil(PrivateKey.sshECDSASignature(fromDER: [0x30, 0x05, 0x02]))
    }

    func testBcryptPBKDFMatchesKnownOutput() throws {
        // bcrypt_pbkdf("password", "salt", 4 rounds, 32 bytes), as pyca/bcrypt's kdf() computes it.
        let key = BcryptPBKDF.deriveKey(passphrase: Array("password".utf8), salt: Array("salt".utf8), rounds: 4, length: 32)
        XCTAssertEqual(key.map { $0.map { String(format: "%02x", $0) }.joined() },
                       "5bbf0cc293587f1c3635555c27796598d47e579071bf427e9d8fbe842aba34d9")
    }
}

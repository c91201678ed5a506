import Foundation
import Platform
@testable import SSH
import XCTest

final class KnownHostsTests: XCTestCase {
    private let keyA = HostKey(type: "ssh-ed25519", blob: Array("key-a-blob".utf8), sha256: [])
    private let keyB = HostKey(type: "ssh-ed25519", blob: Array("key-b-blob".utf8), sha256: [])

    private func base64(_ key: HostKey) -> String { Data(key.blob).base64EncodedString() }

    private func knownHosts(_ text: String) throws -> (KnownHosts, TemporaryPath) {
        let file = TemporaryPath()
        try text.write(toFile: file.path, atomically: true, encoding: .utf8)
        return (KnownHosts(files: [file.path]), file)
    }

    func testPlainEntryMatchesOnlyPort22() throws {
        let (known, file) = try knownHosts("server.example ssh-ed25519 \(base64(keyA))\n")
        _ = file
        XCTAssertEqual(known.verify(keyA, host: "server.example", port: 22), .trusted)
        XCTAssertEqual(known.verify(keyA, host: "server.example", port: 2222), .unknown,
                       "a port-less entry must not vouch for another port")
    }

    func testBracketedPortEntry() throws {
        let (known, file) = try knownHosts("[10.1.2.3]:2222 ssh-ed25519 \(base64(keyA))\n")
        _ = file
        XCTAssertEqual(known.verify(keyA, host: "10.1.2.3", port: 2222), .trusted)
        XCTAssertEqual(known.verify(keyA, host: "10.1.2.3", port: 22), .unknown)
        XCTAssertEqual(known.verify(keyA, host: "10.1.2.3", port: 2223), .unknown)
    }

    func testHashedEntry() throws {
        // |1|salt|HMAC-SHA1(salt, "[host]:port"), as `ssh-keygen -H` writes.
        let salt = [UInt8](repeating: 7, count: 20)
        let hash = Cryptography.hmacSHA1(key: salt, data: Array("[db.internal]:2200".utf8))
        let line = "|1|\(Data(salt).base64EncodedString())|\(Data(hash).base64EncodedString()) ssh-ed25519 \(base64(keyA))\n"
        let (known, file) = try knownHosts(line)
        _ = file
        XCTAssertEqual(known.verify(keyA, host: "db.internal", port: 2200), .trusted)
        XCTAssertEqual(known.verify(keyA, host: "db.internal", port: 22), .unknown)
        XCTAssertEqual(known.verify(keyA, host: "other.internal", port: 2200), .unknown)
    }

    func testChangedKeyIsReportedWithItsLocation() throws {
        let (known, file) = try knownHosts("# comment\nhost1,host2 ssh-ed25519 \(base64(keyA))\n")
        XCTAssertEqual(known.verify(keyB, host: "host2", port: 22), .changed(location: "\(file.path):2"))
    }

    func testKeyOfAnotherTypeIsUnknownNotChanged() throws {
        let rsa = HostKey(type: "ssh-rsa", blob: Array("rsa".utf8), sha256: [])
        let (known, file) = try knownHosts("host1 ssh-ed25519 \(base64(keyA))\n")
        _ = file
        XCTAssertEqual(known.verify(rsa, host: "host1", port: 22), .unknown)
        XCTAssertEqual(known.keyTypes(host: "host1", port: 22), ["ssh-ed25519"])
    }

    func testWildcardsNegationAndRevocation() throws {
        let text = """
        *.prod.example,!bad.prod.example ssh-ed25519 \(base64(keyA))
        @revoked * ssh-ed25519 \(base64(keyB))
        @cert-authority *.example ssh-ed25519 \(base64(keyB))
        """
        let (known, file) = try knownHosts(text)
        XCTAssertEqual(known.verify(keyA, host: "web1.prod.example", port: 22), .trusted)
        XCTAssertEqual(known.verify(keyA, host: "bad.prod.example", port: 22), .unknown)
        XCTAssertEqual(known.verify(keyB, host: "anything", port: 22), .revoked(location: "\(file.path):2"))
    }

    func testAppendWritesTheOpenSSHForm() throws {
        let directory = TemporaryPath()
        let path = directory.path + "/sub/known_hosts"
        let known = KnownHosts(files: [path])
        try known.append(keyA, host: "127.0.0.9", port: 2200)
        try known.append(keyA, host: "plain", port: 22)
        let text = try String(contentsOfFile: path, encoding: .utf8)
        XCTAssertEqual(text, "[127.0.0.9]:2200 ssh-ed25519 \(base64(keyA))\nplain ssh-ed25519 \(base64(keyA))\n")
        XCTAssertEqual(KnownHosts(files: [path]).verify(keyA, host: "127.0.0.9", port: 2200), .trusted)
    }

    func testFingerprintFormat() {
        let key = HostKey(type: "ssh-ed25519", blob: [], sha256: [UInt8](repeating: 0, count: 32))
        XCTAssertEqual(key.fingerprint, "SHA256:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA")
    }

    func testTypeNameFromBlob() {
        let blob: [UInt8] = [0, 0, 0, 11] + Array("ssh-ed25519".utf8) + [0, 0, 0, 32]
        XCTAssertEqual(HostKey.typeName(fromBlob: blob), "ssh-ed25519")
        XCTAssertNil(HostKey.typeName(fromBlob: [0, 0, 0, 99, 1]))
    }
}

/// A path in the temporary directory, removed (with anything under it) on release.
final class TemporaryPath {
    let path = NSTemporaryDirectory() + "/tasker-ssh-test-\(UUID().uuidString)"
    deinit { try? FileManager.default.removeItem(atPath: path) }
}

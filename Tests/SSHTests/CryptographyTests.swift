import Foundation
import Platform
@testable import SSH
import XCTest

/// HMAC-SHA1 (hashed known_hosts) from OpenSSL, against RFC 2202's vectors.
final class HMACSHA1Tests: XCTestCase {
    private func hex(_ bytes: [UInt8]) -> String {
        bytes.map { String(format: "%02x", $0) }.joined()
    }

    func testHMACMatchesRFC2202() {
        XCTAssertEqual(hex(Cryptography.hmacSHA1(key: [UInt8](repeating: 0x0b, count: 20), data: Array("Hi There".utf8))),
                       "b617318655057264e28bc0b6fb378c8ef146be00")
        XCTAssertEqual(hex(Cryptography.hmacSHA1(key: Array("Jefe".utf8), data: Array("what do ya want for nothing?".utf8))),
                       "effcdf6ae5eb2fa2d27416d5f184df9c259a7c79")
        // Keys longer than the block size are hashed first.
        XCTAssertEqual(hex(Cryptography.hmacSHA1(key: [UInt8](repeating: 0xaa, count: 80),
                                                 data: Array("Test Using Larger Than Block-Size Key - Hash Key First".utf8))),
                       "aa4ae5e15272d00e95705637ce8a3b55ed402112")
    }
}

final class DigestTests: XCTestCase {
    func testSHA256() {
        XCTAssertEqual(Digest.sha256Hex(Array("abc".utf8)), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        XCTAssertEqual(Digest.sha256Hex([]), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
    }
}

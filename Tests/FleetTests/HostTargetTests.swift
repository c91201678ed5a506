import Foundation
import XCTest
@testable import Fleet

final class HostTargetTests: XCTestCase {
    func testParsesUserHostAndPort() throws {
        let cases: [(String, HostTarget)] = [
            ("web1", HostTarget(host: "web1")),
            ("alice@web1", HostTarget(host: "web1", user: "alice")),
            ("web1:2222", HostTarget(host: "web1", port: 2222)),
            ("bob@10.0.0.1:22", HostTarget(host: "10.0.0.1", user: "bob", port: 22)),
            ("[::1]:2200", HostTarget(host: "::1", port: 2200)),
            ("root@[fe80::1]", HostTarget(host: "fe80::1", user: "root")),
            ("a@b@host", HostTarget(host: "host", user: "a@b")),
        ]
        for (text, expected) in cases {
            XCTAssertEqual(try HostTarget(parsing: text), expected, text)
        }
    }

    func testRejectsMalformedTargets() {
        let cases: [(String, String)] = [
            ("web1:0", "invalid port '0'"),
            ("web1:http", "invalid port 'http'"),
            ("web1:70000", "invalid port '70000'"),
            ("@web1", "empty user name"),
            ("alice@", "empty host name"),
            ("::1", "must be written in brackets"),
            ("[::1", "unclosed '['"),
            ("we b", "invalid character ' '"),
            ("", "empty host name"),
        ]
        for (text, message) in cases {
            XCTAssertThrowsError(try HostTarget(parsing: text), text) { error in
                XCTAssertTrue("\(error)".contains(message), "\(text): \(error)")
            }
        }
    }

    func testListsAndHostsFiles() throws {
        XCTAssertEqual(try HostTarget.parseList("a,b:2,,c").map(\.description), ["a", "b:2", "c"])
        let path = NSTemporaryDirectory() + "/hosts-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: path) }
        try "# fleet\nweb1\n  web2:2222  # second\n\nroot@db1\n".write(toFile: path, atomically: true, encoding: .utf8)
        XCTAssertEqual(try HostTarget.parseFile(path).map(\.description), ["web1", "web2:2222", "root@db1"])
        try "web1\nweb2:x\n".write(toFile: path, atomically: true, encoding: .utf8)
        XCTAssertThrowsError(try HostTarget.parseFile(path)) { error in
            XCTAssertTrue("\(error)".hasPrefix("\(path):2: invalid port"), "\(error)")
        }
    }
}

import XCTest
@testable import SSH

final class SSHConfigTests: XCTestCase {
    func testFirstValueWinsAndIdentityFilesAccumulate() throws {
        let config = try SSHConfig(parsing: """
        # global
        User everyone
        Host web*  !web9
            HostName %h.internal
            Port 2222
            IdentityFile ~/.ssh/web
        Host web1
            Port 3333
            User alice
        Host *
            Port 22
            IdentityFile ~/.ssh/id_ed25519
            StrictHostKeyChecking accept-new
            ConnectTimeout 7
            SomethingUnknown whatever
        """, path: "cfg")
        let web1 = try config.resolve(host: "web1")
        XCTAssertEqual(web1.user, "everyone", "options before the first Host apply first")
        XCTAssertEqual(web1.port, 2222, "the first matching block's Port wins")
        XCTAssertEqual(web1.hostName, "%h.internal")
        XCTAssertEqual(web1.identityFiles, ["~/.ssh/web", "~/.ssh/id_ed25519"])
        XCTAssertEqual(web1.hostKeyPolicy, .acceptNew)
        XCTAssertEqual(web1.connectTimeout, 7)

        let web9 = try config.resolve(host: "web9")
        XCTAssertEqual(web9.port, 22, "a negated pattern excludes the block")
        XCTAssertNil(web9.hostName)
    }

    func testEqualsSignsQuotesAndComments() throws {
        let config = try SSHConfig(parsing: """
        Host=db
          User = "bob smith"
          UserKnownHostsFile "/tmp/a b" /tmp/c
          Port=2200 # trailing comment
        """, path: "cfg")
        let db = try config.resolve(host: "db")
        XCTAssertEqual(db.user, "bob smith")
        XCTAssertEqual(db.port, 2200)
        XCTAssertEqual(db.userKnownHostsFiles, ["/tmp/a b", "/tmp/c"])
    }

    func testMatchBlocksOtherThanAllNeverApply() throws {
        let config = try SSHConfig(parsing: """
        Match host db exec "false"
          User wrong
        Match all
          User right
        """, path: "cfg")
        XCTAssertEqual(try config.resolve(host: "db").user, "right")
    }

    func testErrorsNameFileAndLine() {
        XCTAssertThrowsError(try SSHConfig(parsing: "Host a\n  Port seventy\n", path: "my.cfg").resolve(host: "a")) { error in
            XCTAssertEqual("\(error)", "my.cfg:2: bad Port: seventy")
        }
        XCTAssertThrowsError(try SSHConfig(parsing: "Host a\nUser \"unterminated\n", path: "my.cfg")) { error in
            XCTAssertEqual("\(error)", "my.cfg:2: unterminated quote")
        }
        XCTAssertThrowsError(try SSHConfig(parsing: "Host\n", path: "my.cfg")) { error in
            XCTAssertEqual("\(error)", "my.cfg:1: Host needs at least one pattern")
        }
    }
}

import Foundation
import TestFleet
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

    /// Include (globbed, nested, inside a Host block) and Match (host after
    /// HostName, originalhost, user, localuser, exec, negation) resolve as
    /// `ssh -G` prints them for the same file.
    func testAlgorithmListsResolveAsSshMinusGPrintsThem() throws {
        let directory = try TemporaryDirectory()
        let cases = [
            "PubkeyAcceptedAlgorithms +ssh-rsa\nCiphers -*-cbc,chacha20*\nMACs ^hmac-sha1",
            "PubkeyAcceptedAlgorithms -rsa-sha2-*,*-cert-v01@openssh.com\nKexAlgorithms +diffie-hellman-group14-sha1",
            "HostKeyAlgorithms ecdsa-sha2-*,ssh-ed25519\nCiphers aes256-ctr,aes128-ctr\nMACs hmac-sha2-512,hmac-sha2-256",
            "PubkeyAcceptedKeyTypes ^ssh-ed25519\nKexAlgorithms -sntrup*\nHostKeyAlgorithms +ssh-rsa",
        ]
        for (index, text) in cases.enumerated() {
            let path = directory.path + "/algorithms-\(index).conf"
            try (text + "\nCertificateFile /certs/a-cert.pub\nCertificateFile /certs/b-cert.pub\nPasswordAuthentication no\n")
                .write(toFile: path, atomically: true, encoding: .utf8)
            let printed = try ProcessRunner.run("/usr/bin/ssh", ["-G", "-F", path, "somehost"])
            XCTAssertEqual(printed.status, 0, printed.stderr)
            var expected: [String: [String]] = [:]
            for line in printed.stdout.split(separator: "\n") {
                let words = line.split(separator: " ", maxSplits: 1).map(String.init)
                if words.count == 2 { expected[words[0], default: []].append(words[1]) }
            }
            let values = try SSHConfig(contentsOf: path).resolve(host: "somehost")
            func resolved(_ value: String?, _ keyword: AlgorithmList.Keyword) -> String {
                AlgorithmList.resolve(value ?? "+", for: keyword).joined(separator: ",")
            }
            XCTAssertEqual(resolved(values.pubkeyAcceptedAlgorithms, .pubkeyAcceptedAlgorithms), expected["pubkeyacceptedalgorithms"]?.first, text)
            XCTAssertEqual(resolved(values.ciphers, .ciphers), expected["ciphers"]?.first, text)
            XCTAssertEqual(resolved(values.macs, .macs), expected["macs"]?.first, text)
            XCTAssertEqual(resolved(values.kexAlgorithms, .kexAlgorithms), expected["kexalgorithms"]?.first, text)
            if values.hostKeyAlgorithms != nil {
                XCTAssertEqual(resolved(values.hostKeyAlgorithms, .hostKeyAlgorithms), expected["hostkeyalgorithms"]?.first, text)
            }
            XCTAssertEqual(values.certificateFiles, expected["certificatefile"], text)
            XCTAssertEqual(values.passwordAuthentication, false)
        }
    }

    func testIncludeAndMatchResolveAsSshMinusGPrintsThem() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("sshg-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: directory + "/conf.d", withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let main = directory + "/main.conf"
        try """
            Include \(directory)/conf.d/*.conf
            Host web*
              Port 2201
            Match host 10.9.* user deploy
              IdentityFile /keys/deploy
            Match originalhost db !user root,admin
              User dbadmin
            Match originalhost db
              HostKeyAlias db-key
            Match exec "test %n = cache" !localuser nobody
              Port 2999
            Match !host *.example.com originalhost api
              ProxyJump gw1,gw2
            Match all
              User fallback
            """.write(toFile: main, atomically: true, encoding: .utf8)
        try "Host web1\n  HostName 10.9.0.1\n  User deploy\n  Include \(directory)/nested.cfg\n  HostKeyAlias webalias\n"
            .write(toFile: directory + "/conf.d/a.conf", atomically: true, encoding: .utf8)
        try "Host zzz\n  Port 1\n".write(toFile: directory + "/conf.d/b.conf", atomically: true, encoding: .utf8)
        try "ProxyJump jump1\n".write(toFile: directory + "/nested.cfg", atomically: true, encoding: .utf8)
        let config = try SSHConfig(contentsOf: main)
        XCTAssertEqual(config.unsupported, [])

        for (host, user) in [("web1", nil), ("web2", nil), ("db", nil), ("db", "root"), ("db", "guest"), ("cache", nil),
                             ("api", nil), ("zzz", nil)] as [(String, String?)] {
            let arguments = ["-G", "-F", main] + (user.map { ["-l", $0] } ?? []) + [host]
            let printed = try ProcessRunner.run("/usr/bin/ssh", arguments)
            XCTAssertEqual(printed.status, 0, printed.stderr)
            var expected: [String: [String]] = [:]
            for line in printed.stdout.split(separator: "\n") {
                let words = line.split(separator: " ", maxSplits: 1).map(String.init)
                guard words.count == 2 else { continue }
                expected[words[0], default: []].append(words[1])
            }
            let values = try config.resolve(host: host, user: user)
            let label = "\(user.map { "\($0)@" } ?? "")\(host)"
            XCTAssertEqual(values.hostName ?? host, expected["hostname"]?.first, label)
            // A user given to ssh wins over ssh_config's, as in ConnectionResolver.
            XCTAssertEqual(user ?? values.user ?? NSUserName(), expected["user"]?.first, label)
            XCTAssertEqual(String(values.port ?? 22), expected["port"]?.first, label)
            XCTAssertEqual(values.proxyJump, expected["proxyjump"]?.first, label)
            XCTAssertEqual(values.hostKeyAlias, expected["hostkeyalias"]?.first, label)
            let explicitKeys = (expected["identityfile"] ?? []).filter { !$0.hasPrefix("~/.ssh/id_") }
            XCTAssertEqual(values.identityFiles, explicitKeys, label)
        }
    }

    func testRelativeIncludesComeFromTheIncludeDirectoryAndUnsupportedKeywordsAreListed() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("sshinc-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try "Host b\n  RemoteCommand uptime\n  Tunnel no\n".write(toFile: directory + "/hosts.conf", atomically: true, encoding: .utf8)
        try "Host *\n  User included\n".write(toFile: directory + "/all.conf", atomically: true, encoding: .utf8)
        let config = try SSHConfig(parsing: """
            Host a
              Include hosts.conf all.conf missing-*.conf
              Port 2
            Host b
              LocalCommand true
              Port 3
            """, path: "main", includeDirectory: directory)
        XCTAssertEqual(try config.resolve(host: "a").port, 2, "the block goes on after its Include")
        XCTAssertEqual(try config.resolve(host: "a").user, "included")
        XCTAssertNil(try config.resolve(host: "b").user, "what Host a includes applies to a only, even its Host * block")
        XCTAssertEqual(config.unsupported.map(\.description), [
            "\(directory)/hosts.conf:2: RemoteCommand is not supported by Tasker and is ignored",
            "main:5: LocalCommand is not supported by Tasker and is ignored",
        ])
        XCTAssertThrowsError(try SSHConfig(parsing: "Match host\n", path: "m")) { XCTAssertEqual("\($0)", "m:1: Match host needs a value") }
        XCTAssertThrowsError(try SSHConfig(parsing: "Match all host x\n", path: "m"))
        XCTAssertThrowsError(try SSHConfig(parsing: "Match tagged x\n", path: "m")) {
            XCTAssertEqual("\($0)", "m:1: unsupported Match criterion 'tagged'")
        }
        let loop = directory + "/loop.conf"
        try "Include \(loop)\n".write(toFile: loop, atomically: true, encoding: .utf8)
        XCTAssertThrowsError(try SSHConfig(contentsOf: loop)) { XCTAssertTrue("\($0)".contains("nested more than 16 deep"), "\($0)") }
    }

    func testASandboxedConfigReadsNoIncludeAndRunsNoMatchExec() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("sshsb-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try "Port 2\n".write(toFile: directory + "/inc.conf", atomically: true, encoding: .utf8)
        let marker = directory + "/ran"
        let text = "Include \(directory)/inc.conf\nMatch exec \"touch \(marker)\"\n  User matched\n"
        let sandboxed = try SSHConfig(parsing: text, path: "untrusted", sandboxed: true)
        XCTAssertNil(try sandboxed.resolve(host: "a").port)
        XCTAssertNil(try sandboxed.resolve(host: "a").user)
        XCTAssertFalse(FileManager.default.fileExists(atPath: marker))
        let trusted = try SSHConfig(parsing: text, path: "trusted")
        XCTAssertEqual(try trusted.resolve(host: "a").port, 2)
        XCTAssertEqual(try trusted.resolve(host: "a").user, "matched")
        XCTAssertTrue(FileManager.default.fileExists(atPath: marker))
    }
}

import Foundation
import SSH
import XCTest
@testable import Fleet

final class ConnectionResolverTests: XCTestCase {
    private func config(_ text: String) throws -> SSHConfig {
        try SSHConfig(parsing: text, path: "test_config")
    }

    func testPrecedenceTargetThenCommandLineThenInventoryThenSSHConfig() throws {
        let sshConfig = try config("""
        Host web1
          HostName 10.0.0.1
          User configuser
          Port 2001
          IdentityFile /keys/config
          ConnectTimeout 3
        """)
        let plain = try ConnectionResolver(sshConfig: sshConfig, overrides: .init()).resolve(HostTarget(host: "web1"))
        XCTAssertEqual(plain.settings.address, "10.0.0.1")
        XCTAssertEqual(plain.settings.user, "configuser")
        XCTAssertEqual(plain.settings.port, 2001)
        XCTAssertEqual(plain.settings.identityFiles, ["/keys/config"])
        XCTAssertEqual(plain.settings.connectTimeout, 3)
        XCTAssertEqual(plain.name, "web1")

        let inventory = InventoryConnectionVariables(address: "192.0.2.7", port: 2002, user: "invuser", identityFiles: ["/keys/inv"])
        let fromInventory = try ConnectionResolver(sshConfig: sshConfig, overrides: .init()).resolve(HostTarget(host: "web1"), inventory: inventory)
        XCTAssertEqual(fromInventory.settings.address, "192.0.2.7")
        XCTAssertEqual(fromInventory.settings.user, "invuser")
        XCTAssertEqual(fromInventory.settings.port, 2002)
        XCTAssertEqual(fromInventory.settings.identityFiles, ["/keys/inv", "/keys/config"])

        var overrides = ConnectionOverrides()
        overrides.user = "cliuser"
        overrides.port = 2003
        overrides.identityFiles = ["/keys/cli"]
        overrides.hostKeyPolicy = .acceptNew
        let fromCLI = try ConnectionResolver(sshConfig: sshConfig, overrides: overrides).resolve(HostTarget(host: "web1"), inventory: inventory)
        XCTAssertEqual(fromCLI.settings.user, "cliuser")
        XCTAssertEqual(fromCLI.settings.port, 2003)
        XCTAssertEqual(fromCLI.settings.identityFiles, ["/keys/cli", "/keys/inv", "/keys/config"])
        XCTAssertEqual(fromCLI.settings.hostKeyPolicy, .acceptNew)
        XCTAssertNil(fromCLI.settings.agentSocket, "-k limits authentication to the given keys")

        let explicit = try ConnectionResolver(sshConfig: sshConfig, overrides: overrides)
            .resolve(HostTarget(host: "web1", user: "me", port: 2004), inventory: inventory)
        XCTAssertEqual(explicit.settings.user, "me")
        XCTAssertEqual(explicit.settings.port, 2004)
        XCTAssertEqual(explicit.name, "me@web1:2004")
    }

    func testTokensAndKnownHostsFiles() throws {
        let sshConfig = try config("""
        Host *
          HostName %h.example.org
          UserKnownHostsFile /kh/%h_%p none
          StrictHostKeyChecking no
          IdentitiesOnly yes
        """)
        let spec = try ConnectionResolver(sshConfig: sshConfig, overrides: .init()).resolve(HostTarget(host: "db", port: 2222))
        XCTAssertEqual(spec.settings.address, "db.example.org")
        XCTAssertEqual(spec.settings.knownHosts.files.first, "/kh/db_2222")
        XCTAssertFalse(spec.settings.knownHosts.files.contains("none"))
        XCTAssertEqual(spec.settings.hostKeyPolicy, .off)
        XCTAssertNil(spec.settings.agentSocket)
    }

    func testBadSSHConfigValueIsBadInput() throws {
        let sshConfig = try config("Host x\n  Port abc\n")
        XCTAssertThrowsError(try ConnectionResolver(sshConfig: sshConfig, overrides: .init()).resolve(HostTarget(host: "x"))) { error in
            XCTAssertEqual("\(error)", "ssh config test_config:2: bad Port: abc")
        }
    }
}

import Foundation
import XCTest
@testable import Fleet
@testable import SSH
import AnsibleInventory

/// The Ansible connection variables Tasker takes from an inventory, per host.
final class InventoryConnectionVariablesTests: XCTestCase {
    private func targets(_ text: String) throws -> InventoryTargets {
        let directory = NSTemporaryDirectory() + "/tasker-targets-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try text.write(toFile: directory + "/hosts.ini", atomically: true, encoding: .utf8)
        return InventoryTargets(inventory: try InventoryLoader.load([directory + "/hosts.ini"]).inventory)
    }

    func testSSHArgumentsGivePortUserAndKeysWhenTheVariablesDoNot() throws {
        let inventory = try targets("""
            [app]
            a ansible_ssh_common_args='-o Port=2201 -o User=ops -i /keys/a -o ServerAliveInterval=5'
            b ansible_port=2202 ansible_user=deploy ansible_ssh_private_key_file=/keys/b ansible_ssh_extra_args='-p 2999 -l other -i /keys/extra'
            """)
        let (a, _, aProblems) = try inventory.connectionVariables(for: "a")
        XCTAssertEqual(a.port, 2201)
        XCTAssertEqual(a.user, "ops")
        XCTAssertEqual(a.identityFiles, ["/keys/a"])
        XCTAssertEqual(aProblems, ["ansible_ssh_common_args: -o ServerAliveInterval=5 ignored by Tasker's built-in SSH"])
        let (b, _, _) = try inventory.connectionVariables(for: "b")
        XCTAssertEqual(b.port, 2202, "ansible_port comes first on ssh's command line, and ssh keeps the first")
        XCTAssertEqual(b.user, "deploy")
        XCTAssertEqual(b.identityFiles, ["/keys/b", "/keys/extra"])
    }

    func testPasswordHostKeyCheckingAndConnection() throws {
        let inventory = try targets("""
            [app]
            a ansible_password=s3cret ansible_ssh_host_key_checking=False
            b ansible_ssh_pass=other ansible_host_key_checking=true ansible_connection=local
            c ansible_connection=docker
            d
            """)
        let (a, aTransport, _) = try inventory.connectionVariables(for: "a")
        XCTAssertEqual(a.password, "s3cret")
        XCTAssertEqual(a.hostKeyPolicy, .off)
        XCTAssertEqual(aTransport, .ssh)
        let (b, bTransport, _) = try inventory.connectionVariables(for: "b")
        XCTAssertEqual(b.password, "other")
        XCTAssertEqual(b.hostKeyPolicy, .strict)
        XCTAssertEqual(bTransport, .local)
        XCTAssertEqual(try inventory.connectionVariables(for: "c").1, .unsupported("docker"))
        XCTAssertNil(try inventory.connectionVariables(for: "d").0.hostKeyPolicy)
    }

    func testEachProblemIsReportedOnceWithItsHosts() throws {
        let inventory = try targets("[app]\nweb[1:5] ansible_become_flags=-E\nsolo ansible_become_exe=/opt/sudo ansible_become=maybe\n")
        let resolver = ConnectionResolver(sshConfig: .empty, overrides: ConnectionOverrides())
        let (specs, warnings) = try inventory.specs(for: ["web1", "web2", "web3", "web4", "web5", "solo"], resolver: resolver)
        XCTAssertEqual(specs.count, 6)
        XCTAssertEqual(warnings, [
            "5 hosts web1, web2, web3, …: ansible_become_flags is ignored: Tasker runs sudo, su or doas by name with its own flags",
            "host solo: ansible_become is not a boolean and is ignored",
            "host solo: ansible_become_exe is ignored: Tasker runs sudo, su or doas by name with its own flags",
        ])
    }

    func testBecomeVariablesGiveEachHostItsBecomeAndTheCommandLineWins() throws {
        let inventory = try targets("""
            [db]
            pg ansible_become=yes ansible_become_user=postgres ansible_become_method=su ansible_become_pass=pg-secret
            plain
            off ansible_become=false

            [db:vars]
            ansible_become_password=group-secret
            """)
        let resolver = ConnectionResolver(sshConfig: .empty, overrides: ConnectionOverrides())
        let specs = Dictionary(uniqueKeysWithValues: try inventory.specs(for: ["pg", "plain", "off"], resolver: resolver).specs.map { ($0.name, $0) })
        let pg = try XCTUnwrap(specs["pg"]?.become)
        XCTAssertEqual(pg.method, .su)
        XCTAssertEqual(pg.user, "postgres")
        XCTAssertEqual(pg.password.map { String(decoding: $0.unsafeBytes, as: UTF8.self) }, "pg-secret", "as in Ansible, the later alias (ansible_become_pass) wins")
        XCTAssertNil(specs["plain"]?.become, "a password alone does not turn become on")
        XCTAssertNil(specs["off"]?.become)

        var overrides = ConnectionOverrides()
        overrides.become = BecomeSettings(enabled: true, user: "root")
        let forced = Dictionary(uniqueKeysWithValues: try inventory.specs(for: ["pg", "off"], resolver: ConnectionResolver(sshConfig: .empty, overrides: overrides))
            .specs.map { ($0.name, $0) })
        XCTAssertEqual(forced["pg"]?.become?.user, "root")
        XCTAssertEqual(forced["pg"]?.become?.method, .su, "what the command line leaves unsaid comes from the inventory")
        XCTAssertEqual(forced["off"]?.become?.method, .sudo)
        XCTAssertEqual(forced["off"]?.become?.password.map { String(decoding: $0.unsafeBytes, as: UTF8.self) }, "group-secret")

        let bad = try targets("[x]\nh ansible_become_method=pbrun\n")
        XCTAssertThrowsError(try bad.connectionVariables(for: "h")) { error in
            XCTAssertEqual("\(error)", "host h: ansible_become_method 'pbrun' is not supported (sudo, su or doas)")
        }
    }
}

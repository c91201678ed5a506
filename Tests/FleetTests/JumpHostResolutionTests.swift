import Foundation
@testable import SSH
import XCTest
@testable import Fleet

/// Where jump hosts come from and how each hop is resolved, as `ssh -J` and
/// ssh_config's `ProxyJump` decide it.
final class JumpHostResolutionTests: XCTestCase {
    private func resolver(_ text: String, jump: String? = nil, user: String? = nil, port: Int? = nil,
                          keys: [String] = []) throws -> ConnectionResolver {
        var overrides = ConnectionOverrides()
        overrides.jump = jump
        overrides.user = user
        overrides.port = port
        overrides.identityFiles = keys
        return ConnectionResolver(sshConfig: try SSHConfig(parsing: text, path: "test_config"), overrides: overrides)
    }

    private func chain(_ spec: ConnectionSpec) -> [String] {
        spec.jumps.map { "\($0.settings.user)@\($0.settings.address):\($0.settings.port)" }
    }

    private let config = """
        Host web*
          ProxyJump bastion2
          User deploy
        Host bastion2
          HostName 10.1.0.2
          Port 2202
          User jumper
          ProxyJump bastion1
        Host bastion1
          HostName 10.1.0.1
          IdentityFile /keys/bastion
        Host *
          User fallback
        """

    func testAJumpHostsOwnProxyJumpIsFollowedAndEachHopKeepsItsOwnSettings() throws {
        let spec = try resolver(config).resolve(HostTarget(host: "web1"))
        XCTAssertEqual(chain(spec), ["fallback@10.1.0.1:22", "jumper@10.1.0.2:2202"])
        XCTAssertEqual(spec.via, ["bastion1", "bastion2"])
        XCTAssertEqual(spec.jumps[0].settings.identityFiles, ["/keys/bastion"])
        XCTAssertEqual(spec.jumps[0].settings.name, "bastion1")
        XCTAssertEqual(spec.settings.user, "deploy")
        XCTAssertTrue(spec.jumps.allSatisfy { $0.jumps.isEmpty })
    }

    func testCommandLineJumpWinsAndLaterHopsIgnoreTheirOwnProxyJump() throws {
        // As `ssh -J a,bastion2`: bastion2 is reached through a, not through its own ProxyJump.
        let spec = try resolver(config, jump: "ops@a:2222,bastion2").resolve(HostTarget(host: "web1"))
        XCTAssertEqual(chain(spec), ["ops@a:2222", "jumper@10.1.0.2:2202"])
        let direct = try resolver(config, jump: "none").resolve(HostTarget(host: "web1"))
        XCTAssertEqual(direct.jumps.count, 0)
    }

    func testTheCommandLinesUserPortAndKeysAreTheTargetsOnly() throws {
        let spec = try resolver(config, user: "cli", port: 2999, keys: ["/keys/cli"]).resolve(HostTarget(host: "web1"))
        XCTAssertEqual(spec.settings.user, "cli")
        XCTAssertEqual(spec.settings.port, 2999)
        XCTAssertEqual(spec.settings.identityFiles, ["/keys/cli"])
        XCTAssertEqual(chain(spec), ["fallback@10.1.0.1:22", "jumper@10.1.0.2:2202"])
        XCTAssertEqual(spec.jumps[0].settings.identityFiles, ["/keys/bastion"])
    }

    func testInventoryJumpSitsBetweenTheCommandLineAndSSHConfig() throws {
        let inventory = InventoryConnectionVariables(jump: "inv-bastion")
        let spec = try resolver(config).resolve(HostTarget(host: "web1"), inventory: inventory)
        XCTAssertEqual(spec.via, ["inv-bastion"])
        let overridden = try resolver(config, jump: "cli-bastion").resolve(HostTarget(host: "web1"), inventory: inventory)
        XCTAssertEqual(overridden.via, ["cli-bastion"])
    }

    func testFirstOfProxyJumpAndProxyCommandWins() throws {
        let text = """
            Host a
              ProxyCommand none
            Host a b
              ProxyJump hop
            """
        let values = try SSHConfig(parsing: text, path: "c")
        XCTAssertEqual(try values.resolve(host: "a").proxyCommand, "none")
        XCTAssertNil(try values.resolve(host: "a").proxyJump)
        XCTAssertEqual(try values.resolve(host: "b").proxyJump, "hop")
        XCTAssertEqual(try resolver(text).resolve(HostTarget(host: "a")).jumps.count, 0)
    }

    func testLoopsAndBadListsAreClearErrors() throws {
        let loop = """
            Host x
              ProxyJump y
            Host y
              ProxyJump x
            """
        XCTAssertThrowsError(try resolver(loop).resolve(HostTarget(host: "x"))) { error in
            XCTAssertTrue("\(error)".contains("more than 10 deep"), "\(error)")
        }
        XCTAssertThrowsError(try resolver("Host self\n  ProxyJump self\n").resolve(HostTarget(host: "self"))) { error in
            XCTAssertTrue("\(error)".contains("more than 10 deep") || "\(error)".contains("loop"), "\(error)")
        }
        XCTAssertThrowsError(try SSHConfig(parsing: "Host a\n  ProxyJump b,,c\n", path: "cfg").resolve(host: "a")) { error in
            XCTAssertEqual("\(error)", "cfg:2: bad ProxyJump (empty host in ''): b,,c")
        }
    }

    func testJumpListSyntax() throws {
        let list = try JumpHostList(parsing: "a,me@b:2200,ssh://ops@c:22,[::1]:2222,ssh://d/")
        XCTAssertEqual(list.hops, [
            .init(user: nil, host: "a", port: nil),
            .init(user: "me", host: "b", port: 2200),
            .init(user: "ops", host: "c", port: 22),
            .init(user: nil, host: "::1", port: 2222),
            .init(user: nil, host: "d", port: nil),
        ])
        for bad in ["", "a,", "@b", "b:0", "b:x", "ssh://b/path", "[::1", "a b"] {
            XCTAssertThrowsError(try JumpHostList(parsing: bad), bad)
        }
    }

    func testInventorySSHArgumentsYieldTheJumpAndListTheRest() throws {
        XCTAssertEqual(try InventorySSHArguments(parsing: "-J bastion").jump, "bastion")
        XCTAssertEqual(try InventorySSHArguments(parsing: "-Jme@bastion:22").jump, "me@bastion:22")
        XCTAssertEqual(try InventorySSHArguments(parsing: "-o ProxyJump=a,b").jump, "a,b")
        XCTAssertEqual(try InventorySSHArguments(parsing: "-oProxyJump=a").jump, "a")
        XCTAssertEqual(try InventorySSHArguments(parsing: "-o 'ProxyJump a'").jump, "a")
        let command = try InventorySSHArguments(parsing: #"-o ProxyCommand="ssh -W %h:%p -q bastion" -o ServerAliveInterval=5 -C"#)
        XCTAssertEqual(command.proxyCommand, "ssh -W %h:%p -q bastion")
        XCTAssertNil(command.jump)
        XCTAssertEqual(command.ignored, ["-o ServerAliveInterval=5", "-C"])
        XCTAssertThrowsError(try InventorySSHArguments(parsing: "-J"))
    }

    func testProxyCommandTokensAndPrecedence() throws {
        let text = """
            Host db
              HostName 10.2.0.9
              Port 2022
              User dba
              ProxyCommand ssh -W %h:%p gw -l %r -o Tag=%n,100%%
            Host gw
              ProxyCommand nc -X connect -x proxy:3128 %h %p
            Host quoted
              ProxyCommand=sh -c "exec nc %h %p"  
            """
        let spec = try resolver(text).resolve(HostTarget(host: "db"))
        XCTAssertEqual(spec.settings.proxyCommand, "ssh -W 10.2.0.9:2022 gw -l dba -o Tag=db,100%")
        XCTAssertEqual(spec.jumps.count, 0)
        XCTAssertEqual(try resolver(text).resolve(HostTarget(host: "quoted")).settings.proxyCommand,
                       #"sh -c "exec nc quoted 22""#, "the command as written, quotes and all")
        XCTAssertNil(try resolver(text, jump: "gw").resolve(HostTarget(host: "db")).settings.proxyCommand,
                     "-J wins over ssh_config's ProxyCommand")
        let viaGateway = try resolver(text, jump: "gw").resolve(HostTarget(host: "db"))
        XCTAssertEqual(viaGateway.jumps.first?.settings.proxyCommand, "nc -X connect -x proxy:3128 gw 22",
                       "the first jump host is reached the way its own ssh_config says")
        let fromInventory = try resolver(text).resolve(HostTarget(host: "db"),
                                                       inventory: InventoryConnectionVariables(proxyCommand: "none"))
        XCTAssertNil(fromInventory.settings.proxyCommand, "ProxyCommand none in the inventory's ssh arguments")
        let inventoryJump = try resolver(text).resolve(HostTarget(host: "db"), inventory: InventoryConnectionVariables(jump: "gw"))
        XCTAssertNil(inventoryJump.settings.proxyCommand)
        XCTAssertEqual(inventoryJump.via, ["gw"])
    }
}

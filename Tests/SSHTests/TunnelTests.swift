import Foundation
import Platform
@testable import SSH
import TestFleet
import XCTest

/// Sessions carried by a jump host's `direct-tcpip` channels, against real
/// sshds in a network namespace that only the bastion can see into.
final class TunnelTests: XCTestCase {
    private var fleet: TestFleet!

    override func setUpWithError() throws {
        fleet = try TestFleet.shared()
    }

    private func settings(name: String, address: String, port: Int, knownHosts: String,
                          connectTimeout: Double = 5) -> SSHConnectionSettings {
        SSHConnectionSettings(
            name: name, address: address, port: port, user: NSUserName(),
            identityFiles: [fleet.clientKey], knownHosts: KnownHosts(files: [knownHosts]),
            connectTimeout: connectTimeout, keepaliveInterval: 1, keepaliveCountMax: 3)
    }

    private func bastionSettings(_ hosts: BastionFleet) -> SSHConnectionSettings {
        settings(name: hosts.bastionName, address: hosts.bastion.address, port: hosts.bastion.port,
                 knownHosts: hosts.knownHosts)
    }

    private func targetSettings(_ index: Int, _ hosts: BastionFleet) -> SSHConnectionSettings {
        settings(name: BastionFleet.targetName(index), address: BastionFleet.targetAddress(index),
                 port: BastionFleet.targetPort, knownHosts: hosts.knownHosts)
    }

    func testASessionThroughABastionRunsCommandsAndMovesLargeOutput() async throws {
        let hosts = try BastionFleet(fleet: fleet, bastionAddress: "127.0.22.1", targetCount: 4)
        defer { hosts.stop() }
        let loop = EventLoopGroup.shared.next()
        do {
            _ = try await SSHConnection.connect(targetSettings(1, hosts), on: loop)
            XCTFail("the target must not be reachable directly")
        } catch let error as SSHError {
            XCTAssertEqual(error.kind, .unreachable, error.description)
        }

        let bastion = try await SSHConnection.connect(bastionSettings(hosts), on: loop)
        let ended = Counter()
        var targets: [SSHConnection] = []
        for index in 1...4 {
            targets.append(try await SSHConnection.connect(targetSettings(index, hosts), through: bastion,
                                                          whenTunnelEnds: { ended.increment() }))
        }
        let peer = await targets[0].peer
        XCTAssertEqual(peer, "127.0.1.1:2223 via bastion1")
        try await withThrowingTaskGroup(of: Void.self) { group in
            for (offset, target) in targets.enumerated() {
                group.addTask {
                    let sink = CountingSink()
                    let exit = try await target.execute("echo target-\(offset); head -c 30000000 /dev/zero",
                                                        output: sink, deadline: .after(seconds: 60))
                    XCTAssertEqual(exit.exitCode, 0)
                    XCTAssertEqual(sink.count, "target-\(offset)\n".utf8.count + 30_000_000)
                    XCTAssertTrue(sink.head.starts(with: Array("target-\(offset)\n".utf8)))
                }
            }
            try await group.waitForAll()
        }
        // Many commands at once on one tunnelled session.
        let second = targets[1]
        let outputs = try await withThrowingTaskGroup(of: String.self) { group in
            for index in 0..<8 {
                group.addTask {
                    let sink = CollectingSink()
                    _ = try await second.execute("echo \(index)", output: sink, deadline: .after(seconds: 20))
                    return sink.text(.stdout)
                }
            }
            return try await group.reduce(into: []) { $0.append($1) }
        }
        XCTAssertEqual(Set(outputs), Set((0..<8).map { "\($0)\n" }))
        XCTAssertEqual(hosts.bastionLogins, 1, "every target rides the one bastion connection")
        XCTAssertEqual(hosts.targetLogins, 4)

        for target in targets { await target.close() }
        for _ in 0..<100 where ended.value < 4 { try await Task.sleep(nanoseconds: 20_000_000) }
        XCTAssertEqual(ended.value, 4, "each closed session gives its tunnel back")
        await bastion.close()
    }

    func testATargetTheBastionCannotReachIsUnreachableNamingTheBastion() async throws {
        let hosts = try BastionFleet(fleet: fleet, bastionAddress: "127.0.22.2", targetCount: 1)
        defer { hosts.stop() }
        let bastion = try await SSHConnection.connect(bastionSettings(hosts), on: EventLoopGroup.shared.next())
        var nowhere = targetSettings(1, hosts)
        nowhere.port = 2999
        do {
            _ = try await SSHConnection.connect(nowhere, through: bastion)
            XCTFail("nothing listens on port 2999 behind the bastion")
        } catch let error as SSHError {
            XCTAssertEqual(error.kind, .unreachable)
            XCTAssertTrue(error.message.contains("bastion1 could not open a tunnel to 127.0.1.1:2999"), error.description)
        }
        // The bastion connection is still good for the next target.
        let target = try await SSHConnection.connect(targetSettings(1, hosts), through: bastion)
        let exit = try await target.execute("true", output: CollectingSink(), deadline: .after(seconds: 10))
        XCTAssertEqual(exit.exitCode, 0)
        await target.close()
        await bastion.close()
    }

    func testAChangedTargetKeyIsRejectedUnderTheTargetsOwnName() async throws {
        let hosts = try BastionFleet(fleet: fleet, bastionAddress: "127.0.22.3", targetCount: 1)
        defer { hosts.stop() }
        let bastion = try await SSHConnection.connect(bastionSettings(hosts), on: EventLoopGroup.shared.next())
        // The bastion's key is right; the target's entry records another key.
        let otherKey = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl"
        let known = "\(fleet.stateDirectory)/bastion-changed-known_hosts"
        try "[\(BastionFleet.targetAddress(1))]:\(BastionFleet.targetPort) \(otherKey)\n"
            .write(toFile: known, atomically: true, encoding: .utf8)
        var target = targetSettings(1, hosts)
        target.knownHosts = KnownHosts(files: [known])
        do {
            _ = try await SSHConnection.connect(target, through: bastion)
            XCTFail("a changed key must be refused")
        } catch let error as SSHError {
            XCTAssertEqual(error.kind, .hostKeyRejected)
            XCTAssertTrue(error.message.contains("HOST KEY CHANGED for [127.0.1.1]:2223"), error.description)
        }
        await bastion.close()
    }

    func testLosingTheBastionFailsTheSessionsItCarries() async throws {
        let hosts = try BastionFleet(fleet: fleet, bastionAddress: "127.0.22.4", targetCount: 2)
        defer { hosts.stop() }
        let bastion = try await SSHConnection.connect(bastionSettings(hosts), on: EventLoopGroup.shared.next())
        let target = try await SSHConnection.connect(targetSettings(1, hosts), through: bastion)
        let started = Date()
        async let running = target.execute("sleep 30", output: CollectingSink(), deadline: .after(seconds: 60))
        try await Task.sleep(nanoseconds: 500_000_000)
        // The bastion's session process dies, as when the bastion reboots.
        signalProcesses(try hosts.bastion.sessionProcesses(), "KILL")
        do {
            _ = try await running
            XCTFail("the command cannot finish without its bastion")
        } catch let error as SSHError {
            XCTAssertEqual(error.kind, .connectionLost, error.description)
            XCTAssertTrue(error.message.contains("via bastion1"), error.description)
        }
        XCTAssertLessThan(Date().timeIntervalSince(started), 20)
        let broken = await target.isBroken
        XCTAssertTrue(broken)
        await target.close()
        await bastion.close()
    }
}

/// Counts stdout bytes and keeps the first few.
private final class CountingSink: OutputSink, @unchecked Sendable {
    private let lock = NSLock()
    private var total = 0
    private var first: [UInt8] = []
    var count: Int { lock.withLock { total } }
    var head: [UInt8] { lock.withLock { first } }

    func write(_ bytes: UnsafeRawBufferPointer, to stream: OutputStreamKind) {
        guard stream == .stdout else { return }
        lock.withLock {
            total += bytes.count
            if first.count < 64 { first += bytes.prefix(64 - first.count) }
        }
    }
}

private final class Counter: @unchecked Sendable {
    private let lock = NSLock()
    private var count = 0
    var value: Int { lock.withLock { count } }
    func increment() { lock.withLock { count += 1 } }
}

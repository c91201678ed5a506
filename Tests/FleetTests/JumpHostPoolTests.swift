import Foundation
import SSH
import TestFleet
import XCTest
@testable import Fleet

/// The pool's jump host connections against a real bastion: reuse across
/// commands, and a lost bastion connection reopened once for what comes after.
final class JumpHostPoolTests: XCTestCase {
    private var fleet: TestFleet!

    override func setUpWithError() throws {
        fleet = try TestFleet.shared()
    }

    func testALostBastionConnectionIsReopenedForLaterCommands() async throws {
        let hosts = try BastionFleet(fleet: fleet, bastionAddress: "127.0.22.21", targetCount: 2, proxyJumpInConfig: true)
        defer { hosts.stop() }
        let resolver = ConnectionResolver(sshConfig: try SSHConfig(contentsOf: hosts.sshConfig), overrides: .init())
        let specs = try ["t001", "t002"].map { try resolver.resolve(HostTarget(host: $0)) }
        // As a workflow keeps them: idle connections stay, failures are retried.
        let pool = ConnectionPool(options: .init(failurePolicy: .retryOnNextUse))
        let runner = FleetRunner(pool: pool)
        for spec in specs {
            let result = await runner.runHost(spec, commands: ["true"], options: .init())
            XCTAssertEqual(result.status, .ok, result.error ?? "")
        }
        XCTAssertEqual(hosts.bastionLogins, 1)

        signalProcesses(try hosts.bastion.sessionProcesses(), "KILL")
        try await Task.sleep(nanoseconds: 300_000_000)
        for spec in specs {
            let result = await runner.runHost(spec, commands: ["echo again"], options: .init())
            XCTAssertEqual(result.status, .ok, result.error ?? "")
            XCTAssertEqual(result.stdout.text, "again\n")
        }
        XCTAssertEqual(hosts.bastionLogins, 2, "one new bastion connection carries both targets again")
        XCTAssertEqual(hosts.targetLogins, 4)
        XCTAssertEqual(pool.statistics.jumpHostConnectionsOpened, 2)
        await pool.closeAll()
    }
}

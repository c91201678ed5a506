import Foundation
import TestFleet
import XCTest

/// Workflow tasks that move files and run scripts across the fleet:
/// `exec=ssh_push`, `exec=ssh_script` and `exec=ssh_pull` fanned out with `hosts=`.
final class WorkflowFileTaskTests: XCTestCase {
    private var directory: TemporaryDirectory!
    private var fleet: TestFleet!
    /// On the hosts; they share the controller's file system, so each host writes under its own name.
    private var remoteBase: String!

    override func setUpWithError() throws {
        directory = try TemporaryDirectory()
        fleet = try TestFleet.shared()
        remoteBase = "/tmp/tasker-workflow-files-\(UUID().uuidString.prefix(8))"
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(atPath: remoteBase)
    }

    private func sha256(_ path: String) throws -> String {
        let result = try ProcessRunner.run("/usr/bin/sha256sum", [path])
        return String(result.stdout.prefix(64))
    }

    func testAWorkflowPushesRunsAScriptAndPullsAcrossHosts() throws {
        let artifact = directory.path + "/app-1.2.tgz"
        try Data((0..<(300 << 10)).map { _ in UInt8.random(in: 0...255) }).write(to: URL(fileURLWithPath: artifact))
        let script = directory.path + "/verify.sh"
        try """
            #!/bin/sh
            set -e
            sha256sum "$1/app.tgz" | cut -d' ' -f1 > "$1/sum"
            stat -c %a "$1/app.tgz"
            echo "checked by $(id -un)" >&2

            """.write(toFile: script, atomically: true, encoding: .utf8)
        let pulled = directory.path + "/pulled"
        let flow = directory.path + "/deploy.txt"
        try """
            --default-exec=ssh
            BASE=\(remoteBase!)

            task=0
            hosts=fleet[10:13]
            exec=ssh_push
            command=\(artifact)
            arguments=--mode 0640 @BASE@/{host}/app.tgz

            task=1
            hosts=fleet[10:13]
            exec=ssh_script
            command=\(script)
            arguments=@BASE@/@inventory_hostname@

            task=2
            hosts=fleet[10:13]
            exec=ssh_pull
            command=@BASE@/{host}/sum
            arguments=\(pulled)

            task=3
            hosts=fleet[10:13]
            exec=ssh_push
            command=\(artifact)
            arguments=--checksum @BASE@/{host}/app.tgz

            task=4
            hostname=\(TestFleet.name(11))
            exec=ssh_push
            command=\(artifact)
            arguments=/proc/no-such-directory/app.tgz
            on_failure=10

            task=10
            hostname=localhost
            exec=local
            command=echo
            arguments=the failed push routed here
            next=never

            """.write(toFile: flow, atomically: true, encoding: .utf8)
        let json = directory.path + "/report.json"
        let result = try ProcessRunner.run(TestFleet.taskerExecutable,
                                           ["-r", flow, "--output-json=\(json)", "-F", fleet.sshConfig, "-i", fleet.inventory,
                                            "-l", directory.path + "/logs"], timeout: 120)
        XCTAssertEqual(result.status, 0, result.stdout + result.stderr)
        let report = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: json))) as? [String: Any])
        let results = try XCTUnwrap(report["task_results"] as? [String: [String: Any]])
        let expected = try sha256(artifact)
        let hosts = (11...14).map(TestFleet.name)
        for host in hosts {
            let copy = "\(remoteBase!)/\(host)/app.tgz"
            XCTAssertEqual(try sha256(copy), expected, host)
            let mode = try FileManager.default.attributesOfItem(atPath: copy)[.posixPermissions] as? Int
            XCTAssertEqual(mode, 0o640, host)
            let script = try XCTUnwrap((results["1"]?["hosts"] as? [String: [String: Any]])?[host], "\(results["1"] ?? [:])")
            XCTAssertEqual(script["stdout"] as? String, "640\n")
            XCTAssertEqual(script["stderr"] as? String, "checked by root\n")
            XCTAssertEqual(try String(contentsOfFile: "\(pulled)/\(host)/sum", encoding: .utf8), expected + "\n", host)
        }
        XCTAssertEqual(results["3"]?["success"] as? Bool, true, "a second push with --checksum finds every copy in place")
        let failedPush = try XCTUnwrap(results["4"])
        XCTAssertEqual(failedPush["success"] as? Bool, false)
        XCTAssertEqual(failedPush["exit_code"] as? Int, 1)
        XCTAssertFalse((failedPush["stderr"] as? String ?? "").isEmpty, "the reason is the task's stderr: \(failedPush)")
        XCTAssertEqual(results["10"]?["stdout"] as? String, "the failed push routed here\n")
        let leftovers = try FileManager.default.subpathsOfDirectory(atPath: remoteBase).filter { $0.contains(".tasker") }
        XCTAssertEqual(leftovers, [], "no temporary files stay behind")
    }

    func testAHostnamesBlockPushesToEachOfItsHosts() throws {
        let artifact = directory.path + "/my app.bin"
        try Data((0..<(64 << 10)).map { _ in UInt8.random(in: 0...255) }).write(to: URL(fileURLWithPath: artifact))
        let flow = directory.path + "/block.txt"
        try """
            task=0
            type=parallel
            hostnames=\(TestFleet.name(15)),\(TestFleet.name(16))
            exec=ssh_push
            command="\(artifact)"
            arguments=--preserve \(remoteBase!)/{host}/

            """.write(toFile: flow, atomically: true, encoding: .utf8)
        let result = try ProcessRunner.run(TestFleet.taskerExecutable,
                                           ["-r", flow, "-F", fleet.sshConfig, "-i", fleet.inventory, "-l", directory.path + "/logs"],
                                           timeout: 120)
        XCTAssertEqual(result.status, 0, result.stdout + result.stderr)
        for host in [TestFleet.name(15), TestFleet.name(16)] {
            let copy = "\(remoteBase!)/\(host)/my app.bin"
            XCTAssertEqual(try sha256(copy), try sha256(artifact), host)
            let times = try [artifact, copy].map { try FileManager.default.attributesOfItem(atPath: $0)[.modificationDate] as? Date }
            XCTAssertEqual(times[0].map { Int($0.timeIntervalSince1970) }, times[1].map { Int($0.timeIntervalSince1970) }, "--preserve")
        }
    }

    func testTheValidatorChecksFileTaskOptions() throws {
        let flow = directory.path + "/bad.txt"
        try "task=0\nhostname=h\nexec=ssh_push\ncommand=a.tgz\narguments=--mode 999 /opt/a.tgz\n"
            .write(toFile: flow, atomically: true, encoding: .utf8)
        let result = try ProcessRunner.run(TestFleet.taskerExecutable, ["-r", flow, "-l", directory.path + "/logs"], timeout: 60)
        XCTAssertEqual(result.status, 20)
        XCTAssertTrue(result.stdout.contains("ssh_push: --mode must be octal permission bits"), result.stdout)
    }
}

import Foundation
import TestFleet
import XCTest

/// TASKER workflows whose tasks run across the local fleet: `hosts=` fan-out,
/// `exec=ssh` over the pool, per-host results, failures, timeouts and resume.
final class FleetWorkflowTests: XCTestCase {
    private var directory: TemporaryDirectory!
    private var fleet: TestFleet!

    override func setUpWithError() throws {
        directory = try TemporaryDirectory()
        fleet = try TestFleet.shared()
    }

    private func taskFile(_ text: String) throws -> String {
        let path = directory.path + "/flow-\(UUID().uuidString.prefix(6)).txt"
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    /// The fleet's inventory plus `ghost`, an address nothing listens on.
    private func inventoryWithGhost() throws -> String {
        let path = directory.path + "/inventory.ini"
        var text = try String(contentsOfFile: fleet.inventory, encoding: .utf8)
        text += "\n[broken]\nghost ansible_host=127.0.\(TestFleet.baseOctet).250 ansible_port=\(TestFleet.port)\n"
        text += "\n[mixed:children]\nbroken\n\n[mixed]\nnode001\nnode002\nnode003\nnode004\n"
        text += "\n[aliases]\nwebalias ansible_host=127.0.\(TestFleet.baseOctet).7 ansible_port=\(TestFleet.port)\n"
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    private func tasker(_ arguments: [String], inventory: String? = nil) throws -> ProcessRunner.Result {
        try ProcessRunner.run(TestFleet.taskerExecutable,
                              arguments + ["-F", fleet.sshConfig, "-i", inventory ?? fleet.inventory, "-l", directory.path + "/logs"],
                              timeout: 120)
    }

    private func report(_ path: String) throws -> [String: [String: Any]] {
        let object = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: path))) as? [String: Any])
        return try XCTUnwrap(object["task_results"] as? [String: [String: Any]])
    }

    private func hosts(_ record: [String: Any]?) throws -> [String: [String: Any]] {
        try XCTUnwrap(record?["hosts"] as? [String: [String: Any]])
    }

    func testMultiStepWorkflowOverTwentyHostsUsesOneConnectionPerHost() throws {
        let targets = Array(1...20)
        let baselines = targets.map { fleet.connectionCount(toHost: $0) }
        let flow = try taskFile("""
        --default-exec=ssh
        RELEASE=2.0

        task=0
        hosts=fleet[0:19]
        command=echo
        arguments=step one on @inventory_hostname@

        task=1
        hosts=fleet[0:19]
        command=sh
        arguments=-c "echo release @RELEASE@ >&2; hostname >/dev/null"

        task=2
        hosts=fleet[0:19]
        exec=ssh_shell
        command=echo
        arguments=$((6 * 7)) "@inventory_hostname@"
        stdout_split=space,0

        task=3
        hostname=node005
        command=echo
        arguments=@0_stdout[node007]@ | @2_stdout[node020]@ | @1_exit@ | @2_hosts@

        task=4
        hosts=@2_succeeded_hosts@
        command=true
        """)
        let json = directory.path + "/report.json"
        let outputs = directory.path + "/streams"
        let result = try tasker(["-r", flow, "--output-json=\(json)", "--output-dir", outputs])
        XCTAssertEqual(result.status, 0, result.stdout + result.stderr)

        let results = try report(json)
        XCTAssertEqual(results["0"]?["stdout"] as? String, "hosts=fleet[0:19]: 20/20 successful")
        XCTAssertEqual(try hosts(results["0"])["node007"]?["stdout"] as? String, "step one on node007\n")
        XCTAssertEqual(try hosts(results["2"])["node020"]?["stdout"] as? String, "42", "ssh_shell expands; the split applies per host")
        let names = (1...20).map(TestFleet.name).joined(separator: ",")
        XCTAssertEqual(results["3"]?["stdout"] as? String, "step one on node007 | 42 | 0 | \(names)\n")
        XCTAssertEqual(try hosts(results["4"]).count, 20, "a later task targets the hosts an earlier one reported")

        XCTAssertTrue(result.stdout.contains("] node009: step one on node009\n"), "live stdout lines carry the host")
        XCTAssertTrue(result.stdout.contains("] WARN: node011: release 2.0\n"), "live stderr lines are warnings")
        XCTAssertTrue(result.stdout.contains("SSH: 20 connection(s) opened, 0 reconnect(s)"), result.stdout)
        XCTAssertEqual(try String(contentsOfFile: outputs + "/0/node003.stdout", encoding: .utf8), "step one on node003\n")
        XCTAssertEqual(try String(contentsOfFile: outputs + "/1/node003.stderr", encoding: .utf8), "release 2.0\n")
        for (index, host) in targets.enumerated() {
            XCTAssertEqual(fleet.connectionsLogged(toHost: host, since: baselines[index]), 1,
                           "host \(host): one connection for all five tasks")
        }
    }

    func testFanOutKeepsBoundedOutputPerHostAndEverythingInTheOutputDirectory() throws {
        let flow = try taskFile("""
        task=0
        hosts=fleet[20:21]
        exec=ssh_shell
        command=head -c 300000 /dev/zero | tr '\\0' x; echo; echo end
        success=stdout~end
        """)
        let json = directory.path + "/report.json"
        let outputs = directory.path + "/streams"
        let result = try tasker(["-r", flow, "--output-json=\(json)", "--output-dir", outputs, "--keep-bytes", "1000",
                                 "--log-level=WARN"])
        XCTAssertEqual(result.status, 0, result.stdout + result.stderr)
        let stdout = try XCTUnwrap(try hosts(try report(json)["0"])["node021"]?["stdout"] as? String)
        XCTAssertLessThan(stdout.utf8.count, 3000, "1000 bytes from each end, plus the omission marker")
        XCTAssertTrue(stdout.hasSuffix("end\n"))
        let file = try FileManager.default.attributesOfItem(atPath: outputs + "/0/node021.stdout")
        XCTAssertEqual(file[.size] as? Int, 300_005, "the output directory keeps every byte")
    }

    func testFanOutAggregatesFailedAndUnreachableHosts() throws {
        let inventory = try inventoryWithGhost()
        let flow = try taskFile("""
        task=0
        hosts=mixed
        command=sh
        arguments=-c "test @inventory_hostname@ != node003"
        success=min_success=3
        on_failure=9

        task=1
        hosts=mixed
        command=true
        on_success=9
        on_failure=2

        task=2
        hostname=localhost
        exec=local
        command=echo
        arguments=failed=@1_failed_hosts@ ok=@1_succeeded_hosts@ ghost=@0_exit[ghost]@

        task=3
        hostname=webalias
        exec=ssh
        command=echo
        arguments=reached

        task=9
        return=1
        """)
        let json = directory.path + "/report.json"
        let retry = directory.path + "/failed.retry"
        let result = try tasker(["-r", flow, "--output-json=\(json)", "--connect-timeout", "5", "--retry-file", retry], inventory: inventory)
        XCTAssertEqual(result.status, 0, result.stdout + result.stderr)
        let retryLines = try String(contentsOfFile: retry, encoding: .utf8).split(separator: "\n").map(String.init)
        XCTAssertEqual(retryLines.sorted(), ["ghost", "node003"], "each host that failed in some hosts= task, once")
        let results = try report(json)
        XCTAssertEqual(results["0"]?["success"] as? Bool, true, "3 of 5 hosts is enough for min_success=3")
        XCTAssertEqual(results["0"]?["stdout"] as? String, "hosts=mixed: 3/5 successful, 1 not reached, 1 failed")
        XCTAssertEqual(results["0"]?["stderr"] as? String, "Failed hosts: [node003]. Hosts not reached: [ghost]")
        let first = try hosts(results["0"])
        XCTAssertEqual(first["ghost"]?["status"] as? String, "unreachable")
        let reason = try XCTUnwrap(first["ghost"]?["stderr"] as? String)
        XCTAssertTrue(reason.hasPrefix("unreachable (root@127.0.\(TestFleet.baseOctet).250:\(TestFleet.port)): "), reason)
        XCTAssertEqual(first["node003"]?["status"] as? String, "failed")
        XCTAssertEqual(first["node003"]?["exit_code"] as? Int, 1)
        XCTAssertEqual(results["1"]?["success"] as? Bool, false, "all_success is the default criterion")
        XCTAssertEqual(results["2"]?["stdout"] as? String, "failed=ghost ok=node001,node002,node003,node004 ghost=255\n")
        XCTAssertNil(results["9"], "routing followed the aggregate")
        XCTAssertEqual(results["3"]?["stdout"] as? String, "reached\n", "hostname= is looked up in the inventory (ansible_host)")
        XCTAssertTrue(result.stdout.contains("Task 0@ghost: FAILED (unreachable"), result.stdout)
    }

    func testALocalInventoryHostRunsItsTasksOnTheController() throws {
        let inventory = directory.path + "/local.ini"
        try "[mixed]\ncontroller ansible_connection=local\nnode010 ansible_host=127.0.\(TestFleet.baseOctet).10 ansible_port=\(TestFleet.port)\n"
            .write(toFile: inventory, atomically: true, encoding: .utf8)
        // The fleet's sshd sets TASKER_FLEET for its sessions; the controller's shell does not have it.
        let flow = try taskFile("task=0\nhosts=mixed\ncommand=sh\narguments=-c \"echo ${TASKER_FLEET:-controller} $SSH_CONNECTION\"\n")
        let json = directory.path + "/local-report.json"
        let result = try tasker(["-r", flow, "--output-json=\(json)"], inventory: inventory)
        XCTAssertEqual(result.status, 0, result.stdout + result.stderr)
        let perHost = try hosts(try report(json)["0"])
        XCTAssertTrue((perHost["controller"]?["stdout"] as? String ?? "").hasPrefix("controller"), "run on the controller, not over SSH")
        XCTAssertTrue((perHost["node010"]?["stdout"] as? String ?? "").hasPrefix("1 "), "\(perHost["node010"] ?? [:])")
        XCTAssertTrue((perHost["node010"]?["stdout"] as? String ?? "").contains("127.0.\(TestFleet.baseOctet).10 \(TestFleet.port)"))
    }

    func testAnEmptyHostListSkipsTheTaskInsteadOfSelectingEveryHost() throws {
        let flow = try taskFile("""
        task=0
        hosts=fleet[0:1]
        command=true
        task=1
        hosts=@0_failed_hosts@
        command=false
        on_failure=9
        task=2
        hostname=localhost
        exec=local
        command=true
        task=9
        return=7
        """)
        let json = directory.path + "/report.json"
        let result = try tasker(["-r", flow, "--output-json=\(json)"])
        XCTAssertEqual(result.status, 0, result.stdout)
        XCTAssertTrue(result.stdout.contains("Task 1: hosts=@0_failed_hosts@ is empty, skipping task"), result.stdout)
        XCTAssertEqual(try report(json)["1"]?["exit_code"] as? Int, -1, "recorded like a condition skip")
        XCTAssertFalse(result.stdout.contains("Task 1@"), "no host ran the task")
    }

    func testTimeoutOnOneHostKillsItsRemoteCommandAndTheOthersCarryOn() throws {
        let marker = "6\(Int.random(in: 100...999)).5"
        let flow = try taskFile("""
        task=0
        hosts=fleet[0:3]
        command=sh
        arguments=-c "if [ @inventory_hostname@ = node002 ]; then exec sleep \(marker); fi; echo done"
        timeout=5
        success=max_failed=1
        """)
        let json = directory.path + "/report.json"
        let result = try tasker(["-r", flow, "--output-json=\(json)"])
        XCTAssertEqual(result.status, 0, result.stdout + result.stderr)
        let perHost = try hosts(try report(json)["0"])
        XCTAssertEqual(perHost["node002"]?["status"] as? String, "timeout")
        XCTAssertEqual(perHost["node002"]?["exit_code"] as? Int, 124)
        XCTAssertEqual(perHost["node004"]?["stdout"] as? String, "done\n")
        XCTAssertEqual(try ProcessTable.count("sleep \(marker)"), 0, "the remote command was killed")
    }

    func testInterruptCancelsRemoteCommandsBeforeExiting() throws {
        let marker = "7\(Int.random(in: 100...999)).5"
        let flow = try taskFile("task=0\nhosts=fleet[8:11]\ncommand=sleep\narguments=\(marker)\ntask=1\nhosts=fleet\ncommand=true\n")
        let process = Process()
        process.executableURL = URL(fileURLWithPath: TestFleet.taskerExecutable)
        process.arguments = ["-r", flow, "-F", fleet.sshConfig, "-i", fleet.inventory, "-l", directory.path + "/logs"]
        let output = Pipe()
        process.standardOutput = output
        process.standardError = FileHandle.nullDevice
        try process.run()
        XCTAssertEqual(try ProcessTable.waitFor("sleep \(marker)", atLeast: 4), 4)
        kill(process.processIdentifier, SIGINT)
        let log = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        XCTAssertEqual(process.terminationStatus, 130)
        XCTAssertEqual(try ProcessTable.count("sleep \(marker)"), 0, "remote commands were killed")
        XCTAssertTrue(log.contains("hosts=fleet[8:11]: 0/4 successful, 4 cancelled"), log)
        XCTAssertFalse(log.contains("Task 1:"), "no task starts after the interrupt")
    }

    func testResumeWithStartFromReconnectsAndFinishes() throws {
        let flag = directory.path + "/broken"
        XCTAssertTrue(FileManager.default.createFile(atPath: flag, contents: nil))
        let flow = try taskFile("""
        task=0
        hosts=fleet[0:4]
        command=echo
        arguments=ready

        task=1
        hosts=fleet[0:4]
        command=test
        arguments=! -e \(flag)

        task=2
        hostname=node001
        exec=ssh
        command=echo
        arguments=finished
        """)
        let baseline = fleet.connectionCount(toHost: 1)
        let failed = try tasker(["-r", flow])
        XCTAssertEqual(failed.status, 1, failed.stdout)
        XCTAssertFalse(failed.stdout.contains("node001: finished"))
        try FileManager.default.removeItem(atPath: flag)
        let resumed = try tasker(["-r", flow, "--start-from", "1"])
        XCTAssertEqual(resumed.status, 0, resumed.stdout)
        XCTAssertTrue(resumed.stdout.contains("] node001: finished\n"), resumed.stdout)
        XCTAssertTrue(resumed.stdout.contains("SSH: 5 connection(s) opened, 0 reconnect(s)"), resumed.stdout)
        XCTAssertEqual(fleet.connectionsLogged(toHost: 1, since: baseline), 2, "one connection per run")
    }

    func testAutoRecoveryRestoresPerHostResults() throws {
        let flag = directory.path + "/broken"
        XCTAssertTrue(FileManager.default.createFile(atPath: flag, contents: nil))
        let flow = try taskFile("""
        task=0
        hosts=fleet[5:6]
        command=echo
        arguments=v1 @inventory_hostname@

        task=1
        hostname=localhost
        exec=local
        command=test
        arguments=! -e \(flag)

        task=2
        hostname=localhost
        exec=local
        command=echo
        arguments=@0_stdout[node007]@
        """)
        XCTAssertEqual(try tasker(["-r", flow, "--auto-recovery"]).status, 1)
        try FileManager.default.removeItem(atPath: flag)
        let resumed = try tasker(["-r", flow, "--auto-recovery"])
        XCTAssertEqual(resumed.status, 0, resumed.stdout)
        XCTAssertTrue(resumed.stdout.contains("Task 2: STDOUT: v1 node007"), resumed.stdout)
        XCTAssertFalse(resumed.stdout.contains("Task 0:"), "task 0 did not run again")
    }

    func testTheShippedFleetExamplesRun() throws {
        let examples = fleet.repositoryRoot + "/examples"
        var environment = ProcessInfo.processInfo.environment
        environment["HOME"] = directory.path
        func run(_ file: String, version: String? = nil) throws -> ProcessRunner.Result {
            environment["DEPLOY_VERSION"] = version
            return try ProcessRunner.run(TestFleet.taskerExecutable,
                                         ["-r", file, "-F", fleet.sshConfig, "-i", fleet.inventory, "-l", directory.path + "/logs"],
                                         environment: environment, workingDirectory: fleet.repositoryRoot, timeout: 120)
        }
        let deploy = examples + "/rolling-deploy/rolling-deploy.txt"
        let root = directory.path + "/tasker-rolling-demo"
        let first = try run(deploy, version: "1.0")
        XCTAssertEqual(first.status, 0, first.stdout)
        XCTAssertTrue(first.stdout.contains("Deployed 1.0 to fleet: Rolling: 3/3 batch(es), 64/64 host(s) successful"), first.stdout)
        let broken = try run(deploy, version: "1.1-broken")
        XCTAssertEqual(broken.status, 1, broken.stdout)
        // The canary failed its health check: no other host started, and only it was rolled back.
        XCTAssertTrue(broken.stdout.contains("Rolled back 1.1-broken: Rolling: 1/3 batch(es), 0/64 host(s) successful, 1 failed, 63 held"),
                      broken.stdout)
        XCTAssertTrue(broken.stdout.contains("; hosts=node001: 1/1 successful"), broken.stdout)
        XCTAssertFalse(FileManager.default.fileExists(atPath: "\(root)/node002/incoming/app-1.1-broken.tar.gz"), "node002 was never touched")
        for host in ["node001", "node024"] {
            XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: "\(root)/\(host)/incoming/app-1.0.tar.gz")),
                           try Data(contentsOf: URL(fileURLWithPath: "\(root)/build/app-1.0.tar.gz")), "the artifact was shipped to \(host)")
            XCTAssertEqual(try FileManager.default.destinationOfSymbolicLink(atPath: "\(root)/\(host)/current"), "releases/app-1.0")
            XCTAssertFalse(FileManager.default.fileExists(atPath: "\(root)/\(host)/drain"), "\(host) is back in service")
        }
        // The suite itself loads this machine: the copy only raises the load threshold.
        let healthCheck = directory.path + "/fleet-health-check.txt"
        try String(contentsOfFile: examples + "/fleet-health-check.txt", encoding: .utf8)
            .replacingOccurrences(of: "\nMAX_LOAD_PER_CPU=4\n", with: "\nMAX_LOAD_PER_CPU=1000\n")
            .write(toFile: healthCheck, atomically: true, encoding: .utf8)
        let health = try run(healthCheck)
        XCTAssertEqual(health.status, 0, health.stdout)
        XCTAssertTrue(health.stdout.contains("sshd: hosts=fleet: 64/64 successful"), health.stdout)
    }

    func testRemoteOptionsMayBeFileDefinedArguments() throws {
        let flow = try taskFile("""
        --inventory=\(fleet.inventory)
        --ssh-config=\(fleet.sshConfig)
        --limit=node002,node004
        --forks=1
        task=0
        hosts=fleet
        command=echo
        arguments=@inventory_hostname@
        """)
        let result = try ProcessRunner.run(TestFleet.taskerExecutable, ["-r", flow, "-l", directory.path + "/logs"])
        XCTAssertEqual(result.status, 0, result.stdout + result.stderr)
        XCTAssertTrue(result.stdout.contains("Running on 2 host(s) of hosts=fleet [ssh] (max_parallel=1)"), result.stdout)
        XCTAssertTrue(result.stdout.contains("] node004: node004\n"), result.stdout)
    }

    func testSecretsAreMaskedInHostOutputAndTheLogFile() throws {
        let flow = try taskFile("""
        API_TOKEN=s3cr3t-\(Int.random(in: 1000...9999))
        task=0
        hosts=fleet[0:1]
        command=echo
        arguments=token @API_TOKEN@
        task=1
        hosts=fleet[0]
        exec=local
        command=echo
        arguments=local @API_TOKEN@ for @inventory_hostname@
        task=2
        hostname=node001
        exec=ssh
        command=echo
        arguments=single @API_TOKEN@
        """)
        let result = try tasker(["-r", flow, "-d"])
        XCTAssertEqual(result.status, 0, result.stdout)
        XCTAssertTrue(result.stdout.contains("] node002: token <masked len=11>\n"), result.stdout)
        XCTAssertTrue(result.stdout.contains("] node001: local <masked len=11> for node001\n"), "local fan-out lines are shown too")
        let logs = try FileManager.default.subpathsOfDirectory(atPath: directory.path + "/logs/log")
        let log = try String(contentsOfFile: directory.path + "/logs/log/" + XCTUnwrap(logs.first), encoding: .utf8)
        XCTAssertFalse((result.stdout + log).contains("s3cr3t-"), "the secret never reaches the log")
    }

    func testTargetsAreCheckedBeforeAnythingRuns() throws {
        let flow = try taskFile("task=0\nhosts=webservers\ncommand=true\n")
        let unknown = try tasker(["-r", flow])
        XCTAssertEqual(unknown.status, 20)
        XCTAssertTrue(unknown.stdout.contains("\(flow):2: task 0: hosts=webservers matches no hosts in the inventory"), unknown.stdout)

        let noInventory = try ProcessRunner.run(TestFleet.taskerExecutable, [flow, "-l", directory.path + "/logs"])
        XCTAssertEqual(noInventory.status, 20)
        XCTAssertTrue(noInventory.stdout.contains("hosts=webservers needs an inventory (-i INVENTORY)"), noInventory.stdout)

        let both = try taskFile("task=0\nhosts=fleet\nhostname=node001\ncommand=true\n")
        let invalid = try tasker([both])
        XCTAssertEqual(invalid.status, 20)
        XCTAssertTrue(invalid.stdout.contains("hosts and hostname cannot both be set"), invalid.stdout)
    }
}

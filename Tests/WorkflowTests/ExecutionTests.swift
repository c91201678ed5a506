import Fleet
import Foundation
import SSH
import XCTest
@testable import Workflow

final class ExecutionTests: XCTestCase {
    private var spill: String!

    override func setUpWithError() throws {
        spill = NSTemporaryDirectory() + "/tasker-spill-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: spill, withIntermediateDirectories: true)
    }

    override func tearDown() {
        try? FileManager.default.removeItem(atPath: spill)
    }

    func testShippedConfigurationAndTemplates() throws {
        let config = try ExecutionTypes.load()
        XCTAssertEqual(config.defaultExecType, "pbrun")
        XCTAssertEqual(config.defaultTimeout, 300)
        XCTAssertEqual(config.normalise(" BASH "), "shell")
        XCTAssertEqual(try CommandLineBuilder.argv(execType: "shell", config: config, command: "echo", arguments: "", hostname: "h"),
                       ["/bin/bash", "-c", "echo "])
        XCTAssertEqual(try CommandLineBuilder.argv(execType: "pbrun", config: config, command: "ls", arguments: "-l 'a b'", hostname: "web1"),
                       ["pbrun", "-n", "-h", "web1", "ls", "-l", "a b"])
        XCTAssertEqual(try CommandLineBuilder.argv(execType: "local", config: config, command: "printf", arguments: #"'%s\n' "x y" z\ w"#, hostname: ""),
                       ["printf", #"%s\n"#, "x y", "z w"])
        XCTAssertThrowsError(try CommandLineBuilder.argv(execType: "nope", config: config, command: "x", arguments: "", hostname: ""))
        XCTAssertThrowsError(try CommandLineBuilder.argv(execType: "local", config: config, command: "x", arguments: "'open", hostname: ""))
    }

    func testRunsDirectlyAndCapturesBothStreams() async throws {
        let exit = try await ChildProcess.run(["/bin/sh", "-c", "echo out; echo err >&2; printf 'a\\r\\nb\\rc'; exit 3"],
                                              timeout: 10, spillDirectory: spill)
        XCTAssertEqual(exit.exitCode, 3)
        XCTAssertEqual(exit.stdout, "out\na\nb\nc")
        XCTAssertEqual(exit.stderr, "err\n")
        XCTAssertNil(exit.stdoutFile)
    }

    func testAGivenEnvironmentReplacesTaskersAndNeverReachesTheCommandLine() async throws {
        let exit = try await ChildProcess.run(["/usr/bin/env"], environment: ["TASKER_ERROR": "a b"], timeout: 10, spillDirectory: spill)
        XCTAssertEqual(exit.stdout, "TASKER_ERROR=a b\n")
        let argv = try await ChildProcess.run(["/bin/sh", "-c", "echo $# \"$0\""], environment: [:], timeout: 10, spillDirectory: spill)
        XCTAssertEqual(argv.stdout, "0 /bin/sh\n")
    }

    func testAnExitIsNoticedAtOnceAndDescriptorsAreNotLeaked() async throws {
        _ = try await ChildProcess.run(["true"], timeout: 10, spillDirectory: spill) // starts the monitor
        let before = try FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd").count
        let started = Date()
        for _ in 0..<20 {
            let exit = try await ChildProcess.run(["true"], timeout: 10, spillDirectory: spill)
            XCTAssertEqual(exit.exitCode, 0)
        }
        XCTAssertLessThan(Date().timeIntervalSince(started), 2)
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd").count, before)
        do {
            _ = try await ChildProcess.run(["/nonexistent/program"], timeout: 10, spillDirectory: spill)
            XCTFail("a missing program is an error")
        } catch let error as ChildProcess.SpawnError {
            XCTAssertTrue(error.isMissingExecutable)
        }
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd").count, before,
                       "a failed spawn closes its pipes")
    }

    func testTimeoutKillsTheProcessGroup() async throws {
        let marker = "43.\(Int.random(in: 100...999))"
        let started = Date()
        let exit = try await ChildProcess.run(["/bin/sh", "-c", "sleep \(marker) & sleep \(marker)"], timeout: 1, spillDirectory: spill)
        XCTAssertEqual(exit.exitCode, 124)
        XCTAssertTrue(exit.timedOut)
        XCTAssertTrue(exit.stderr.hasSuffix("\nProcess killed after timeout of 1 seconds"))
        XCTAssertLessThan(Date().timeIntervalSince(started), 8)
        let pgrep = Process()
        pgrep.executableURL = URL(fileURLWithPath: "/usr/bin/pgrep")
        pgrep.arguments = ["-f", "sleep \(marker)"]
        pgrep.standardOutput = FileHandle.nullDevice
        try pgrep.run()
        pgrep.waitUntilExit()
        XCTAssertNotEqual(pgrep.terminationStatus, 0, "the background child dies with the group")
    }

    /// A child that ends while another still runs must not hold up the other's deadline, whichever
    /// registered first (the monitor once read the wrong descriptor — a blocking pipe — and stalled
    /// until the long child ended by itself; a parallel block then took 10 s and ended with 124, not 10).
    func testAnEndingChildNeverDelaysAnothersTimeoutInEitherOrder() async throws {
        let spill: String = self.spill
        for shortFirst in [true, false] {
            let started = Date()
            async let first = ChildProcess.run(shortFirst ? ["sleep", "0.2"] : ["sleep", "30"], timeout: shortFirst ? 10 : 1,
                                               spillDirectory: spill)
            try await Task.sleep(nanoseconds: 50_000_000)  // registered in this order
            async let second = ChildProcess.run(shortFirst ? ["sleep", "30"] : ["sleep", "0.2"], timeout: shortFirst ? 1 : 10,
                                                spillDirectory: spill)
            let (a, b) = try await (first, second)
            let (short, long) = shortFirst ? (a, b) : (b, a)
            XCTAssertEqual(short.exitCode, 0)
            XCTAssertEqual(long.ending, .timedOut, "shortFirst \(shortFirst)")
            XCTAssertLessThan(Date().timeIntervalSince(started), 20, "the 1 s deadline fired, not the 30 s sleep's end (shortFirst \(shortFirst))")
        }
    }

    func testSignalledChildReportsANegativeCodeAndMissingProgramsAreSpawnErrors() async throws {
        let killed = try await ChildProcess.run(["/bin/sh", "-c", "kill -9 $$"], timeout: 10, spillDirectory: spill)
        XCTAssertEqual(killed.exitCode, -9)
        do {
            _ = try await ChildProcess.run(["/nonexistent/program"], timeout: 10, spillDirectory: spill)
            XCTFail("expected a spawn error")
        } catch let error as ChildProcess.SpawnError {
            XCTAssertTrue(error.isMissingExecutable)
            XCTAssertTrue(error.description.contains("No such file or directory"))
        }
    }

    func testLargeOutputSpillsToAFileAndMemoryStaysBounded() async throws {
        let exit = try await ChildProcess.run(["/bin/sh", "-c", "head -c 3000000 /dev/zero | tr '\\0' 'x'"], timeout: 30, spillDirectory: spill)
        let file = try XCTUnwrap(exit.stdoutFile)
        XCTAssertEqual(try FileManager.default.attributesOfItem(atPath: file)[.size] as? Int, 3_000_000)
        XCTAssertLessThan(exit.stdout.utf8.count, ChildProcess.memoryLimit + 70_000)
        let resolver = PlaceholderResolver(results: [0: TaskResult(exitCode: 0, stdout: exit.stdout, stderr: "", success: true, stdoutFile: file)])
        XCTAssertEqual(resolver.resolve("@0_stdout@").text.count, PlaceholderResolver.spillLimit)
    }
}

extension ExecutionTests {
    func testATasksBecomeSwitchesTheHostsOnOrOffAndPicksUserAndMethod() throws {
        func task(_ fields: KeyValuePairs<String, String>) -> TaskDefinition {
            TaskDefinition(id: 1, idText: "1", line: 1, written: fields.map { .init(key: $0.key, value: $0.value, line: 1) })
        }
        var spec = ConnectionSpec(name: "web1", settings: SSHConnectionSettings(address: "127.0.0.1", user: "deploy", knownHosts: KnownHosts(files: [])))
        let password = Secret("pw")
        spec.becomeWhenAsked = Become(method: .doas, user: "admin", password: password)
        let resolver = PlaceholderResolver(globals: ["ON": "On"])
        XCTAssertNil(try TaskBecome.of(task(["command": "id"]), resolver: resolver))
        let on = try XCTUnwrap(TaskBecome.of(task(["become": "@ON@"]), resolver: resolver))
        XCTAssertEqual(on.applied(to: spec)?.description, "doas to admin", "the host's method and user when only turned on")
        let asPostgres = try XCTUnwrap(TaskBecome.of(task(["become": "1", "become_user": "postgres", "become_method": "sudo"]), resolver: resolver))
        XCTAssertEqual(asPostgres.applied(to: spec)?.description, "sudo to postgres")
        XCTAssertTrue(asPostgres.applied(to: spec)?.password === password, "the host's password goes with it")
        let userOnly = try XCTUnwrap(TaskBecome.of(task(["become_user": "postgres"]), resolver: resolver))
        XCTAssertNil(userOnly.applied(to: spec), "become_user alone does not turn become on")
        spec.become = Become(user: "root")
        XCTAssertEqual(userOnly.applied(to: spec)?.description, "sudo to postgres")
        XCTAssertNil(try XCTUnwrap(TaskBecome.of(task(["become": "no"]), resolver: resolver)).applied(to: spec))
        XCTAssertThrowsError(try TaskBecome.of(task(["become": "perhaps"]), resolver: resolver))
        XCTAssertThrowsError(try TaskBecome.of(task(["become_method": "runas"]), resolver: resolver))
    }
}

extension ExecutionTests {
    func testFileTaskArgumentsReadAsTheCommandLineToolsDo() throws {
        let push = try RemoteTask.pushRequest(command: "a.tgz conf/", arguments: "-r --mode=0640 --owner app --checksum /opt/app/")
        XCTAssertEqual(push.sources, ["a.tgz", "conf/"])
        XCTAssertEqual(push.destination, "/opt/app/")
        XCTAssertTrue(push.recursive)
        XCTAssertEqual(push.mode, 0o640)
        XCTAssertEqual(push.owner, "app")
        func failure(_ body: () throws -> Any) -> String {
            do { _ = try body(); return "" } catch { return "\(error)" }
        }
        XCTAssertEqual(failure { try RemoteTask.pushRequest(command: "a", arguments: "/x /y") },
                       "ssh_push: arguments= needs exactly one remote destination after the options, got 2")
        XCTAssertEqual(failure { try RemoteTask.pushRequest(command: "a", arguments: "--checksum --update /x") },
                       "ssh_push: --checksum and --update cannot be combined")
        XCTAssertEqual(failure { try RemoteTask.pushRequest(command: "a", arguments: "--owner") }, "ssh_push: --owner needs a value")
        XCTAssertEqual(failure { try RemoteTask.pullRequest(command: "/etc/hosts", arguments: "--mode 1 out") },
                       "ssh_pull: unknown option --mode in arguments")
        let pull = try RemoteTask.pullRequest(command: "'/var/log/app/'", arguments: "-r --preserve logs/{host}")
        XCTAssertEqual(pull.destination, "logs/{host}")
        XCTAssertTrue(pull.recursive && pull.preserveTimes)

        let missing = try XCTUnwrap(RemoteTask.make(execType: "ssh_push", argv: [], command: spill + "/nothing-here", arguments: "/tmp/x",
                                                    timeout: 30))
        XCTAssertEqual(missing.kind, .push)
        XCTAssertTrue(missing.job is UnpreparedJob, "a source that cannot be read fails each host, with the reason")
        XCTAssertNil(try RemoteTask.make(execType: "local", argv: ["true"], command: "true", arguments: "", timeout: nil))
        XCTAssertEqual(try RemoteTask.make(execType: "ssh", argv: ["echo", "a b"], command: "echo", arguments: "'a b'", timeout: nil)?.summary,
                       "echo 'a b'")
    }
}

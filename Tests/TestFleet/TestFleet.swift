import Foundation
import Locking

/// The real-sshd fleet the integration tests talk to: started once per test
/// process by `scripts/fleet.sh` on 127.0.20.x (apart from a developer's
/// fleet on 127.0.1.x) and stopped when the process exits.
public final class TestFleet: Sendable {
    public static let hostCount = 64
    public static let port = 2200
    public static let baseOctet = 20

    public let repositoryRoot: String
    public let stateDirectory: String

    public var sshConfig: String { stateDirectory + "/ssh_config" }
    public var knownHosts: String { stateDirectory + "/known_hosts" }
    public var clientKey: String { stateDirectory + "/client_ed25519" }
    public var hostsFile: String { stateDirectory + "/hosts" }
    public var inventory: String { stateDirectory + "/inventory.ini" }

    /// The sanitizer the tests run under (`scripts/sanitize.sh`), if any: peak-memory
    /// assertions do not hold under one (ASan's shadow memory and quarantine are not Tasker's).
    public static var sanitizer: String? {
        ProcessInfo.processInfo.environment["TASKER_SANITIZER"].flatMap { $0.isEmpty ? nil : $0 }
    }

    /// `kilobytes`, or no limit under a sanitizer.
    public static func memoryLimit(kilobytes: Int) -> Int {
        sanitizer == nil ? kilobytes : .max
    }

    /// The `tasker` executable built beside the test bundle.
    public static var taskerExecutable: String {
        URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("tasker").path
    }

    public var hostNames: [String] { (1...Self.hostCount).map(Self.name) }

    public static func name(_ index: Int) -> String {
        "node" + String(repeating: "0", count: 3 - String(index).count) + String(index)
    }

    public static func address(_ index: Int) -> String {
        "127.0.\(baseOctet + (index - 1) / 250).\(1 + (index - 1) % 250)"
    }

    /// The sshd log that records connections to host `index`.
    public func sshdLog(forHost index: Int) -> String {
        "\(stateDirectory)/sshd-\((index - 1) / 16)/sshd.log"
    }

    /// Lines of host `index`'s sshd log that record a TCP connection to that host's address.
    public func connectionCount(toHost index: Int) -> Int {
        // The log may hold bytes that are not UTF-8 (client banners are logged raw).
        let data = FileManager.default.contents(atPath: sshdLog(forHost: index)) ?? Data()
        let log = String(decoding: data, as: UTF8.self)
        let marker = "on \(Self.address(index)) port \(Self.port)"
        return log.split(whereSeparator: \.isNewline).filter { $0.contains("Connection from") && $0.contains(marker) }.count
    }

    /// Connections to host `index` logged since `baseline` was read, waiting up to
    /// two seconds for sshd to log a connection that is already up.
    public func connectionsLogged(toHost index: Int, since baseline: Int) -> Int {
        var seen = connectionCount(toHost: index) - baseline
        for _ in 0..<40 where seen == 0 {
            usleep(50_000)
            seen = connectionCount(toHost: index) - baseline
        }
        return seen
    }

    private static let instance = Locked<Result<TestFleet, TestFleetError>?>(nil)

    /// The running fleet, started on first use.
    public static func shared() throws -> TestFleet {
        try instance.withLock { instance in
            if let instance { return try instance.get() }
            let result = Result { try TestFleet.start() }.mapError { $0 as? TestFleetError ?? TestFleetError(message: "\($0)") }
            instance = result
            return try result.get()
        }
    }

    private init(repositoryRoot: String) {
        self.repositoryRoot = repositoryRoot
        stateDirectory = repositoryRoot + "/.test-fleet"
    }

    private static func start() throws -> TestFleet {
        guard getuid() == 0 else { throw TestFleetError(message: "the test fleet needs root (sshd privilege separation)") }
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().path
        let fleet = TestFleet(repositoryRoot: root)
        let result = try ProcessRunner.run(root + "/scripts/fleet.sh", [
            "up", "-n", String(hostCount), "-d", fleet.stateDirectory, "-b", String(baseOctet),
            "-p", String(port), "-i", fleet.inventory,
        ], timeout: 120)
        guard result.status == 0 else {
            throw TestFleetError(message: "fleet.sh up failed (\(result.status)): \(result.stderr)")
        }
        // fleet.sh probed every address; wait until sshd has logged those probes, so that
        // tests counting connections from a baseline never see a late probe line.
        let settled = Date().addingTimeInterval(10)
        for index in 1...hostCount {
            while fleet.connectionCount(toHost: index) < 1, Date() < settled { usleep(20_000) }
        }
        stopScript = root + "/scripts/fleet.sh"
        stopDirectory = fleet.stateDirectory
        atexit {
            if let script = TestFleet.stopScript, let directory = TestFleet.stopDirectory {
                _ = try? ProcessRunner.run(script, ["down", "-d", directory], timeout: 30)
            }
        }
        return fleet
    }

    nonisolated(unsafe) private static var stopScript: String?
    nonisolated(unsafe) private static var stopDirectory: String?
}

public struct TestFleetError: Error, CustomStringConvertible, Sendable {
    public var message: String
    public var description: String { message }
    public init(message: String) { self.message = message }
}

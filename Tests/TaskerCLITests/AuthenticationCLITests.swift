import Foundation
import Glibc
import TestFleet
import XCTest

/// Logging in from the command line: `--password-file`, `--ask-pass` through
/// SSH_ASKPASS, ssh_config's CertificateFile and PubkeyAcceptedAlgorithms, and
/// the one-line report of a refused login, in text and NDJSON.
final class AuthenticationCLITests: XCTestCase {
    private var fleet: TestFleet!
    private var directory: TemporaryDirectory!
    private var server: TestSSHServer!
    private var authorizedKeys: String { directory.path + "/authorized_keys" }
    private var sshConfig: String { directory.path + "/ssh_config" }

    override func setUpWithError() throws {
        fleet = try TestFleet.shared()
        directory = try TemporaryDirectory()
        try "".write(toFile: authorizedKeys, atomically: true, encoding: .utf8)
    }

    override func tearDown() {
        server?.stop()
        server = nil
    }

    private func startServer(_ extraConfig: [String]) throws {
        server = try TestSSHServer(fleet: fleet, name: "cliauth", address: "127.0.21.42",
                                   extraConfig: ["AuthorizedKeysFile \(authorizedKeys)"] + extraConfig)
    }

    /// An ssh_config naming the server `target` (and `target2`, the same server under another name).
    private func writeConfig(user: String, _ lines: [String] = []) throws {
        let body = (["HostName \(server.address)", "Port \(server.port)", "User \(user)",
                     "UserKnownHostsFile \(server.knownHosts)", "IdentityAgent none"] + lines)
            .map { "    " + $0 }.joined(separator: "\n")
        try "Host target target2\n\(body)\n".write(toFile: sshConfig, atomically: true, encoding: .utf8)
    }

    private func tasker(_ arguments: [String], environment: [String: String] = [:]) throws -> ProcessRunner.Result {
        try ProcessRunner.run(TestFleet.taskerExecutable, ["exec", "-F", sshConfig] + arguments, environment: environment, timeout: 60)
    }

    private func keygen(_ name: String, _ arguments: [String]) throws -> String {
        let path = "\(directory.path)/\(name)"
        let result = try ProcessRunner.run("/usr/bin/ssh-keygen", ["-q", "-f", path, "-C", name] + arguments)
        XCTAssertEqual(result.status, 0, result.stderr)
        return path
    }

    private func passwordFile(_ password: String, mode: mode_t) throws -> String {
        let path = directory.path + "/password"
        try (password + "\n").write(toFile: path, atomically: true, encoding: .utf8)
        chmod(path, mode)
        return path
    }

    func testPasswordFileLogsInAfterKeysAreRefused() throws {
        try PasswordUser.ensure(password: "cli-Passw0rd")
        try startServer(["PasswordAuthentication yes", "KbdInteractiveAuthentication no"])
        let stranger = try keygen("stranger", ["-t", "ed25519", "-N", ""])
        try writeConfig(user: PasswordUser.name, ["IdentityFile \(stranger)"])
        let result = try tasker(["--password-file", try passwordFile("cli-Passw0rd", mode: 0o600), "-H", "target", "--", "id", "-un"])
        XCTAssertEqual(result.status, 0, result.stderr)
        XCTAssertEqual(result.stdout, "target: \(PasswordUser.name)\n")
        let log = try String(contentsOfFile: server.log, encoding: .utf8)
        XCTAssertTrue(log.contains("Failed publickey for \(PasswordUser.name)"), "keys are offered first")
        XCTAssertTrue(log.contains("Accepted password for \(PasswordUser.name)"))
    }

    func testAskPassAsksOnceForTheWholeRun() throws {
        try PasswordUser.ensure(password: "asked-once")
        try startServer(["PasswordAuthentication yes", "KbdInteractiveAuthentication no"])
        try writeConfig(user: PasswordUser.name, ["IdentitiesOnly yes"])
        let askpass = directory.path + "/askpass"
        let counter = directory.path + "/asked"
        try "#!/bin/sh\necho \"$1\" >> '\(counter)'\necho asked-once\n".write(toFile: askpass, atomically: true, encoding: .utf8)
        chmod(askpass, 0o755)
        let result = try tasker(["--ask-pass", "-H", "target,target2", "--", "true"],
                                environment: ["SSH_ASKPASS": askpass, "SSH_ASKPASS_REQUIRE": "force"])
        XCTAssertEqual(result.status, 0, result.stderr)
        let questions = try String(contentsOfFile: counter, encoding: .utf8).split(separator: "\n")
        XCTAssertEqual(questions.count, 1, "\(questions)")
        XCTAssertFalse(result.stdout.contains("asked-once") || result.stderr.contains("asked-once"), "the password is never shown")
    }

    func testAnInventoryPasswordLogsThatHostIn() throws {
        try PasswordUser.ensure(password: "from-inventory-1")
        try startServer(["PasswordAuthentication yes", "KbdInteractiveAuthentication no"])
        try writeConfig(user: PasswordUser.name, ["IdentitiesOnly yes"])
        let inventory = directory.path + "/hosts.ini"
        try "[db]\ntarget ansible_password=from-inventory-1\n".write(toFile: inventory, atomically: true, encoding: .utf8)
        let result = try tasker(["-i", inventory, "db", "--json", "--", "id", "-un"])
        XCTAssertEqual(result.status, 0, result.stderr)
        XCTAssertTrue(result.stdout.contains("\"stdout\":\"\(PasswordUser.name)\\n\""), result.stdout)
        XCTAssertFalse(result.stdout.contains("from-inventory-1") || result.stderr.contains("from-inventory-1"))
    }

    func testPasswordFileOthersCanReadIsRefusedBeforeAnythingRuns() throws {
        try startServer([])
        try writeConfig(user: NSUserName())
        let result = try tasker(["--password-file", try passwordFile("x", mode: 0o640), "-H", "target", "--", "true"])
        XCTAssertEqual(result.status, 2)
        XCTAssertTrue(result.stderr.contains("is readable by others (mode 640); chmod 600 it"), result.stderr)
        XCTAssertEqual(server.acceptedLogins(), 0)
    }

    func testCertificateFileAndRSAKeysFromSSHConfig() throws {
        let ca = try keygen("ca", ["-t", "ed25519", "-N", ""])
        try startServer(["TrustedUserCAKeys \(ca).pub"])
        let key = try keygen("user", ["-t", "ecdsa", "-b", "384", "-N", ""])
        let sign = try ProcessRunner.run("/usr/bin/ssh-keygen", ["-q", "-s", ca, "-I", "cli", "-n", NSUserName(), "-V", "-1m:+1h", key + ".pub"])
        XCTAssertEqual(sign.status, 0, sign.stderr)
        let certificate = directory.path + "/issued.pub"
        try FileManager.default.moveItem(atPath: key + "-cert.pub", toPath: certificate)
        let rsa = try keygen("rsa", ["-t", "rsa", "-b", "3072", "-N", ""])
        try String(contentsOfFile: rsa + ".pub", encoding: .utf8).write(toFile: authorizedKeys, atomically: true, encoding: .utf8)

        try writeConfig(user: NSUserName(), ["IdentityFile \(key)", "CertificateFile \(certificate)"])
        let viaCertificate = try tasker(["-H", "target", "--", "true"])
        XCTAssertEqual(viaCertificate.status, 0, viaCertificate.stderr)

        try writeConfig(user: NSUserName(), ["IdentityFile \(rsa)"])
        let viaRSA = try tasker(["-H", "target", "--", "true"])
        XCTAssertEqual(viaRSA.status, 0, viaRSA.stderr)

        try writeConfig(user: NSUserName(), ["IdentityFile \(rsa)", "PubkeyAcceptedAlgorithms -rsa-sha2-512"])
        let sha256Only = try tasker(["-H", "target", "--", "true"])
        XCTAssertEqual(sha256Only.status, 0, sha256Only.stderr)
        XCTAssertEqual(server.acceptedLogins(), 3)
    }

    func testRefusedLoginIsOneLineInTextAndJSON() throws {
        try startServer([])
        let key = try keygen("id_rsa", ["-t", "rsa", "-b", "2048", "-N", ""])
        try writeConfig(user: NSUserName(), ["IdentityFile \(key)"])
        let expected = "\(NSUserName())@target:\(server.port): offered \(key) (rsa-sha2-512, rsa-sha2-256): refused; server allows: publickey"
        let text = try tasker(["-H", "target", "--", "true"])
        XCTAssertEqual(text.status, 3)
        XCTAssertTrue(text.stderr.contains("target: auth_failed: \(expected)\n"), text.stderr)
        let json = try tasker(["-H", "target", "--json", "--", "true"])
        let host = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(json.stdout.split(separator: "\n")[0].utf8)) as? [String: Any])
        XCTAssertEqual(host["status"] as? String, "auth_failed")
        XCTAssertEqual(host["error"] as? String, expected)
    }
}

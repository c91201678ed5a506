import Foundation
import Glibc
import TestFleet
import XCTest

/// Ansible Vault in inventories: whole encrypted files in group_vars/host_vars
/// (format 1.1 and 1.2 with a vault id) and `!vault` values. The fixture was
/// made with ansible-vault; its password is in `vault-password.txt`, and
/// `expected-list.json` is `ansible-inventory --list` of it.
final class VaultInventoryTests: XCTestCase {
    private var fixture: String {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures/vault").path
    }

    private func tasker(_ arguments: [String]) throws -> ProcessRunner.Result {
        try ProcessRunner.run(TestFleet.taskerExecutable, ["inventory", "-i", fixture + "/hosts.ini"] + arguments)
    }

    private func json(_ text: String) throws -> NSDictionary {
        try XCTUnwrap(JSONSerialization.jsonObject(with: Data(text.utf8)) as? NSDictionary, text)
    }

    func testListWithThePasswordMatchesAnsible() throws {
        let result = try tasker(["--list", "--vault-password-file", fixture + "/vault-password.txt"])
        XCTAssertEqual(result.status, 0, result.stderr)
        let expected = try String(contentsOfFile: fixture + "/expected-list.json", encoding: .utf8)
        XCTAssertEqual(try json(result.stdout), try json(expected))
        XCTAssertTrue(result.stdout.contains("\"api_key\": \"abc123\""), "whole encrypted files are decrypted")
        XCTAssertTrue(result.stdout.contains("\"__ansible_vault\": \"$ANSIBLE_VAULT;1.1;AES256\\n"), "!vault values stay encrypted in --list, as in Ansible")
    }

    func testAPasswordProgramWorksAndAWrongOrMissingPasswordIsAnError() throws {
        let directory = try TemporaryDirectory()
        let program = directory.path + "/vault-client"
        try "#!/bin/sh\necho fixture-vault-pass\n".write(toFile: program, atomically: true, encoding: .utf8)
        chmod(program, 0o755)
        XCTAssertEqual(try tasker(["--list", "--vault-password-file", program]).status, 0)
        let missing = try tasker(["--list"])
        XCTAssertEqual(missing.status, 2)
        XCTAssertTrue(missing.stderr.contains("group_vars/all.yml:1: vault-encrypted: give --vault-password-file or --ask-vault-pass"), missing.stderr)
        let wrongFile = directory.path + "/wrong"
        try "not-the-password\n".write(toFile: wrongFile, atomically: true, encoding: .utf8)
        let wrong = try tasker(["--list", "--vault-password-file", wrongFile])
        XCTAssertEqual(wrong.status, 2)
        XCTAssertTrue(wrong.stderr.contains("the vault password does not decrypt it"), wrong.stderr)
    }

    func testAskVaultPassAsksOnceThroughSSHAskpass() throws {
        let directory = try TemporaryDirectory()
        let askpass = directory.path + "/askpass"
        let counter = directory.path + "/asked"
        try "#!/bin/sh\necho \"$1\" >> '\(counter)'\necho fixture-vault-pass\n".write(toFile: askpass, atomically: true, encoding: .utf8)
        chmod(askpass, 0o755)
        var environment = ProcessInfo.processInfo.environment
        environment["SSH_ASKPASS"] = askpass
        environment["SSH_ASKPASS_REQUIRE"] = "force"
        let result = try ProcessRunner.run(TestFleet.taskerExecutable, ["inventory", "-i", fixture + "/hosts.ini", "--list", "--ask-vault-pass"],
                                           environment: environment)
        XCTAssertEqual(result.status, 0, result.stderr)
        XCTAssertTrue(result.stdout.contains("\"api_key\": \"abc123\""))
        XCTAssertEqual(try String(contentsOfFile: counter, encoding: .utf8), "Vault password: \n")
    }

    func testAVaultedConnectionVariableIsDecryptedWhereItIsUsed() throws {
        let fleet = try TestFleet.shared()
        let directory = try TemporaryDirectory()
        try FileManager.default.createDirectory(atPath: directory.path + "/group_vars", withIntermediateDirectories: true)
        // The fixture's `ansible_user: !vault` (it decrypts to "deploy"), for a fleet host.
        try FileManager.default.copyItem(atPath: fixture + "/group_vars/db.yml", toPath: directory.path + "/group_vars/app.yml")
        try "[app]\nnode009 ansible_host=\(TestFleet.address(9)) ansible_port=\(TestFleet.port)\n"
            .write(toFile: directory.path + "/hosts.ini", atomically: true, encoding: .utf8)
        let arguments = ["exec", "-F", "/dev/null", "--known-hosts", fleet.knownHosts, "-i", directory.path + "/hosts.ini", "app", "--json"]
        let result = try ProcessRunner.run(TestFleet.taskerExecutable,
                                           arguments + ["--vault-password-file", fixture + "/vault-password.txt", "--", "true"])
        let line = try json(String(result.stdout.split(separator: "\n").first ?? ""))
        XCTAssertEqual(line["status"] as? String, "auth_failed", "no key is offered; the login is tried as the decrypted user")
        XCTAssertTrue((line["error"] as? String ?? "").hasPrefix("deploy@node009:\(TestFleet.port): "), "\(line)")
        let withoutPassword = try ProcessRunner.run(TestFleet.taskerExecutable, arguments + ["--", "true"])
        XCTAssertEqual(withoutPassword.status, 2)
        XCTAssertTrue(withoutPassword.stderr.contains("host node009: ansible_user (from /"), withoutPassword.stderr)
        XCTAssertTrue(withoutPassword.stderr.contains("/group_vars/app.yml) is vault-encrypted"), "the error names the file: \(withoutPassword.stderr)")
    }
}

import Foundation
import Glibc
import TestFleet
import XCTest

/// Compares `tasker inventory` with ansible-core on the same inventories.
/// Skipped when `ansible-inventory` is not installed (`pip install ansible-core`).
final class AnsibleComparisonTests: XCTestCase {
    private var repository: URL {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    }

    private var tasker: String { TestFleet.taskerExecutable }

    private var inventories: [String] {
        let fixtures = repository.appendingPathComponent("Tests/TaskerCLITests/Fixtures/inventories").path
        let examples = repository.appendingPathComponent("inventories").path
        let fixtureFiles = ((try? FileManager.default.contentsOfDirectory(atPath: fixtures)) ?? []).sorted().map { "\(fixtures)/\($0)" }
        let exampleFiles = ((try? FileManager.default.contentsOfDirectory(atPath: examples)) ?? []).sorted().map { "\(examples)/\($0)" }
        // A directory source and a file inside it both read its group_vars/ and host_vars/.
        return exampleFiles + fixtureFiles + ["\(fixtures)/with-vars/hosts.ini"]
    }

    private func which(_ program: String) -> String? {
        let paths = (ProcessInfo.processInfo.environment["PATH"] ?? "").split(separator: ":") + ["/root/.pyenv/shims", "/usr/local/bin"]
        return paths.map { "\($0)/\(program)" }.first { FileManager.default.isExecutableFile(atPath: $0) }
    }

    private func json(_ text: String) throws -> NSDictionary {
        try XCTUnwrap(JSONSerialization.jsonObject(with: Data(text.utf8)) as? NSDictionary)
    }

    func testListMatchesAnsibleInventory() throws {
        guard let ansibleInventory = which("ansible-inventory") else { throw XCTSkip("ansible-inventory is not installed") }
        XCTAssertGreaterThanOrEqual(inventories.count, 4)
        for inventory in inventories {
            let ansible = try ProcessRunner.run(ansibleInventory, ["-i", inventory, "--list"])
            let ours = try ProcessRunner.run(tasker, ["inventory", "-i", inventory, "--list"])
            XCTAssertEqual(ours.status, 0, "\(inventory): \(ours.stderr)")
            XCTAssertEqual(try json(ours.stdout), try json(ansible.stdout), inventory)
        }
    }

    func testPatternsSelectWhatAnsibleSelects() throws {
        guard which("ansible") != nil else { throw XCTSkip("ansible is not installed") }
        let helper = repository.appendingPathComponent("Tests/TaskerCLITests/Fixtures/ansible_patterns.py").path
        let patterns = ["all", "web", "web:!db:app", "!db:web", "&db", "web,db", "db,web", "~web", "~eb", "WEB1", "web1.*",
                        "app[1:2]", "app[-1]", "app[1:0]", "grp2", "&grp2", "al*", "w*", "web[0]", "web:&eu", "eu:us:!db",
                        "*.example.com", "prod[1:]", "fleet[2:4]", "node00*:!node002", "replicas", "other", "cache[1:]"]
        for inventory in inventories {
            let reference = try ProcessRunner.run("/usr/bin/env", ["python3", helper, inventory] + patterns)
            XCTAssertEqual(reference.status, 0, reference.stderr)
            let expectedLines = reference.stdout.split(separator: "\n").map(String.init)
            XCTAssertEqual(expectedLines.count, patterns.count, reference.stderr)
            for (pattern, line) in zip(patterns, expectedLines) {
                let ours = try ProcessRunner.run(tasker, ["inventory", "-i", inventory, pattern])
                guard let expected = try JSONSerialization.jsonObject(with: Data(line.utf8), options: [.fragmentsAllowed]) as? [String] else {
                    XCTAssertEqual(ours.status, 2, "\(inventory) \(pattern): Ansible refuses it, so must Tasker")
                    continue
                }
                let actual = ours.stdout.split(separator: "\n").map(String.init)
                // Ansible orders hosts of nested groups by Python's (randomised) set order;
                // membership must match exactly.
                XCTAssertEqual(Set(actual), Set(expected), "\(inventory) \(pattern)")
                XCTAssertEqual(actual.count, expected.count, "\(inventory) \(pattern)")
            }
        }
    }

    private func script(_ name: String, _ body: String, in directory: TemporaryDirectory) throws -> String {
        let path = directory.path + "/" + name
        try ("#!/bin/sh\n" + body).write(toFile: path, atomically: true, encoding: .utf8)
        chmod(path, 0o755)
        return path
    }

    func testInventoryScriptsAreReadAsAnsibleReadsThem() throws {
        guard let ansibleInventory = which("ansible-inventory") else { throw XCTSkip("ansible-inventory is not installed") }
        let directory = try TemporaryDirectory()
        let withMeta = try script("with-meta.sh", """
            case "$1" in --list) cat <<'JSON'
            {"web": {"hosts": ["web1", "web2"], "vars": {"http_port": 8080, "tls": true}},
             "db": ["db1"], "prod": {"children": ["web", "db"], "vars": {"ratio": 1.5}},
             "_meta": {"hostvars": {"web1": {"ansible_host": "10.0.0.1", "tags": ["a", "b"]}, "db1": {"ansible_port": 5433}}}}
            JSON
            ;; *) echo '{}' ;; esac
            """, in: directory)
        let withoutMeta = try script("without-meta.sh", """
            case "$1" in
              --list) echo '{"app": {"hosts": ["app1", "app2"]}, "all": {"vars": {"env": "prod"}}}' ;;
              --host) echo "{\\"who\\": \\"$2\\", \\"n\\": null}" ;;
            esac
            """, in: directory)
        for inventory in [withMeta, withoutMeta] {
            let ansible = try ProcessRunner.run(ansibleInventory, ["-i", inventory, "--list"])
            let ours = try ProcessRunner.run(tasker, ["inventory", "-i", inventory, "--list"])
            XCTAssertEqual(ours.status, 0, "\(inventory): \(ours.stderr)")
            XCTAssertEqual(try json(ours.stdout), try json(ansible.stdout), inventory)
        }
        // The same JSON kept in a plain file reads the same.
        let saved = directory.path + "/saved.json"
        try ProcessRunner.run(ansibleInventory, ["-i", withMeta, "--list"]).stdout.write(toFile: saved, atomically: true, encoding: .utf8)
        let fromFile = try ProcessRunner.run(tasker, ["inventory", "-i", saved, "--list"])
        let fromScript = try ProcessRunner.run(tasker, ["inventory", "-i", withMeta, "--list"])
        XCTAssertEqual(try json(fromFile.stdout), try json(fromScript.stdout))
    }

    func testABrokenOrHangingInventoryScriptIsAnErrorNamingIt() throws {
        let directory = try TemporaryDirectory()
        let failing = try script("failing.sh", "echo 'cannot reach the cloud API' >&2\nexit 3\n", in: directory)
        let failed = try ProcessRunner.run(tasker, ["inventory", "-i", failing, "--list"])
        XCTAssertEqual(failed.status, 2)
        XCTAssertTrue(failed.stderr.contains("\(failing) --list: inventory script exited 3: cannot reach the cloud API"), failed.stderr)
        let hanging = try script("hanging.sh", "sleep 30\n", in: directory)
        let started = Date()
        let hung = try ProcessRunner.run(tasker, ["inventory", "-i", hanging, "--inventory-timeout", "1", "--list"])
        XCTAssertEqual(hung.status, 2)
        XCTAssertTrue(hung.stderr.contains("did not finish within 1s (killed)"), hung.stderr)
        XCTAssertLessThan(Date().timeIntervalSince(started), 10)
        let garbage = try script("garbage.sh", "echo not json\n", in: directory)
        XCTAssertTrue(try ProcessRunner.run(tasker, ["inventory", "-i", garbage, "--list"]).stderr.contains("did not print a JSON object"))
    }
}
